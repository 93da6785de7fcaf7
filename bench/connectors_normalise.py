"""How fast each connector turns recorded network items into ``IncomingPost`` (no HTTP).

    .venv/bin/python bench/connectors_normalise.py [--items 100000] [--only x,rss] [--repeat 3]

Items are the recorded payloads in ``tests/fixtures/connectors/<network>/``, repeated with
fresh ids up to ``--items``. Prints posts/s per connector (goal: >= 5,000/s each). Adding a
network is one line in ``NETWORKS``: a name, a function that returns sample items, and the
connector module's ``normalise(item) -> IncomingPost``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import feedparser

from ventanilla.ingest.connectors import (
    bluesky,
    facebook,
    instagram,
    mastodon,
    reddit,
    rss,
    x,
    youtube,
)
from ventanilla.ingest.connectors import email as mail
from ventanilla.ingest.schema import IncomingPost

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "connectors"
GOAL = 5_000


def _json(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / name).read_text(encoding="utf-8"))


def x_samples() -> list[dict[str, Any]]:
    """Recorded v2 mentions with their expanded authors."""
    users = _json("x", "users.json")
    return [{"tweet": t, "users": users} for t in _json("x", "mentions.json")]


def facebook_samples() -> list[dict[str, Any]]:
    """Recorded comments embedded in a Page feed answer."""
    feed = _json("facebook", "feed_with_comments.json")
    return [{"post_id": post["id"], "comment": c}
            for post in feed["data"] for c in post["comments"]["data"]]


def instagram_samples() -> list[dict[str, Any]]:
    """Recorded Instagram comments and replies."""
    media = _json("instagram", "media_with_comments.json")
    samples = []
    for m in media["data"]:
        for c in m["comments"]["data"]:
            samples.append({"media_id": m["id"], "comment": c})
            samples += [{"media_id": m["id"], "comment": r} for r in c["replies"]["data"]]
    return samples


def youtube_samples() -> list[dict[str, Any]]:
    """Recorded comment threads (the well-formed ones)."""
    items = _json("youtube", "comment_threads.json")["items"]
    return [t for t in items if "topLevelComment" in t["snippet"]]


def rss_samples() -> list[dict[str, Any]]:
    """Entries of the recorded RSS and Atom feeds, as feedparser gives them."""
    samples = []
    for name in ("reviews.rss.xml", "blog.atom.xml"):
        parsed = feedparser.parse((FIXTURES / "rss" / name).read_bytes())
        samples += [{"entry": e, "feed": parsed.feed, "url": f"https://feeds.example/{name}"}
                    for e in parsed.entries if e.get("id") or e.get("link")]
    return samples


def mastodon_samples() -> list[dict[str, Any]]:
    """A recorded mention notification and a recorded hashtag status (a reply)."""
    return [_json("mastodon", "notification_mention.json"),
            _json("mastodon", "status_hashtag_reply.json")]


def bluesky_samples() -> list[dict[str, Any]]:
    """A recorded reply notification and a recorded searchPosts postView."""
    return [_json("bluesky", "notification_reply.json"),
            _json("bluesky", "post_view_search.json")]


def reddit_samples() -> list[dict[str, Any]]:
    """Recorded inbox children (comment reply, private message) and a search submission."""
    return [_json("reddit", n) for n in ("inbox_comment_reply.json",
                                         "inbox_private_message.json", "search_submission.json")]


def email_samples() -> list[dict[str, Any]]:
    """Recorded messages (UTF-8, quoted-printable Latin-1, HTML-only, a threaded reply)."""
    names = ("plain_utf8.eml", "quoted_printable_latin1.eml", "html_only.eml",
             "reply_in_thread.eml")
    return [{"raw": (FIXTURES / "email" / n).read_bytes()} for n in names]


@dataclass(frozen=True)
class Network:
    """One benchmarked connector."""

    name: str
    samples: Callable[[], list[dict[str, Any]]]
    normalise: Callable[[Mapping[str, Any]], IncomingPost]


NETWORKS: list[Network] = [
    Network("x", x_samples, x.normalise),
    Network("facebook", facebook_samples, facebook.normalise),
    Network("instagram", instagram_samples, instagram.normalise),
    Network("youtube", youtube_samples, youtube.normalise),
    Network("rss", rss_samples, rss.normalise),
    Network("mastodon", mastodon_samples, mastodon.normalise),
    Network("bluesky", bluesky_samples, bluesky.normalise),
    Network("reddit", reddit_samples, reddit.normalise),
    Network("email", email_samples, lambda item: mail.normalise(item["raw"])),
]


def _unique(value: Any, n: int) -> str:
    """``value`` made unique by ``n``, staying numeric when it was (X ids must be)."""
    text = str(value if value is not None else "item")
    return str(int(text) + n) if text.isdigit() else f"{text}-{n}"


def _with_id(sample: dict[str, Any], n: int) -> dict[str, Any]:
    """A copy of ``sample`` whose innermost id is made unique (shared otherwise)."""
    item = dict(sample)
    for key in ("tweet", "comment", "entry"):
        if key in item:
            inner = copy.copy(item[key])
            inner["id"] = _unique(inner.get("id"), n)
            item[key] = inner
            return item
    item["id"] = _unique(item.get("id"), n)
    return item


def run(network: Network, count: int) -> tuple[float, float]:
    """Normalise ``count`` items; return posts per second of wall time and of CPU time."""
    samples = network.samples()
    items = [_with_id(samples[n % len(samples)], n) for n in range(count)]
    start, cpu = time.perf_counter(), time.process_time()
    for item in items:
        network.normalise(item)
    return count / (time.perf_counter() - start), count / max(1e-9, time.process_time() - cpu)


def main(argv: list[str] | None = None) -> int:
    """Print posts/s for each connector."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--only", default="", help="comma-separated network names")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per network; the best is printed (steadier on a busy box)")
    args = parser.parse_args(argv)
    wanted = {n for n in args.only.split(",") if n}
    # Wall time counts whatever else the machine runs; CPU time is this process's own work.
    print(f"{'network':<12}{'items':>10}{'wall posts/s':>14}{'cpu posts/s':>13}  goal >= {GOAL:,}/s")
    for network in NETWORKS:
        if wanted and network.name not in wanted:
            continue
        runs = [run(network, args.items) for _ in range(max(1, args.repeat))]
        wall, cpu = max(r[0] for r in runs), max(r[1] for r in runs)
        mark = "ok" if wall >= GOAL else ("ok (cpu; wall slowed by load)" if cpu >= GOAL else "BELOW GOAL")
        print(f"{network.name:<12}{args.items:>10,}{wall:>14,.0f}{cpu:>13,.0f}  {mark}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
