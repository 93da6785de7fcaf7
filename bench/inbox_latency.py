"""Inbox first page over HTTP with 100,000 posts loaded, on SQLite and PostgreSQL.

Prints p50/p95 latency of the inbox's first page (default view, a filter, a text search, the cases
left out as hidden spam: one post in 100 is folded away) and the web process's
peak RSS. Goals: p95 < 150 ms; web process < 250 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _databases import fresh_database, pg_available

OPENERS = ["Mi vuelo", "My flight", "La maleta", "My bag", "El reembolso", "The refund", "La app", "The app"]
TROUBLES = ["lleva tres horas de retraso", "was cancelled again", "no aparece", "never arrived",
            "sigue sin llegar", "is still pending", "no funciona", "keeps crashing"]
ENDINGS = ["¿alguien me ayuda?", "please help", "qué vergüenza", "thanks in advance", "", "😡", "🙏"]


def load(posts: int, authors: int) -> None:
    os.environ["VENTANILLA_TRIAGE_ON_INGEST"] = "false"
    from ventanilla.accounts.bootstrap import ensure_workspace
    from ventanilla.accounts.models import Role
    from ventanilla.accounts.service import create_user
    from ventanilla.cases.service import attach_posts
    from ventanilla.config import get_settings
    from ventanilla.db import session_scope
    from ventanilla.ingest.channels import get_or_create_channel
    from ventanilla.ingest.schema import IncomingPost
    from ventanilla.ingest.service import accept

    get_settings.cache_clear()
    rng = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with session_scope() as s:
        ws = ensure_workspace(s, slug="bench", name="Bench", timezone="Europe/Madrid")
        create_user(s, email="bench@example.com", name="Bench", password="bench-password-1",
                    workspace=ws, role=Role.agent)
        channels = [get_or_create_channel(s, workspace_id=ws.id, slug=f"ch{i}", network=n).id
                    for i, n in enumerate(["x", "facebook", "instagram", "mastodon"])]
    from ventanilla.ingest.models import Channel

    chunk = 5000
    for base in range(0, posts, chunk):
        batch: dict[int, list[IncomingPost]] = {c: [] for c in channels}
        for i in range(base, min(posts, base + chunk)):
            lang = "es" if i % 3 else "en"
            text = f"{rng.choice(OPENERS)} {rng.choice(TROUBLES)} {rng.choice(ENDINGS)} #{i}"
            batch[channels[i % len(channels)]].append(IncomingPost(
                network="x", external_id=f"b{i}", text=text, language=lang,
                created_at=start + timedelta(seconds=i * 20),
                author={"handle": f"user{rng.randrange(authors)}", "followers": rng.randrange(50_000)}))
        with session_scope() as s:
            new_ids: list[int] = []
            for channel_id, items in batch.items():
                new_ids += accept(s, channel=s.get(Channel, channel_id), posts=items).new_post_ids
            attach_posts(s, new_ids)
    hide_spam(every=100)
    # The clock's search.index job would have caught up within 10 s of the last post.
    from ventanilla.cases.search import index_all

    with session_scope() as s:
        index_all(s)


def hide_spam(every: int) -> None:
    """Fold away one post in `every` as spam a lead approved, so the inbox has cases to leave out."""
    from sqlalchemy import insert, select

    from ventanilla.db import session_scope
    from ventanilla.ingest.models import Post
    from ventanilla.privacy.models import PostVisibility

    with session_scope() as s:
        posts = s.execute(select(Post.id, Post.workspace_id).order_by(Post.id)).all()[::every]
        s.execute(insert(PostVisibility), [
            {"workspace_id": ws, "post_id": pid, "hidden": True, "reason": "spam", "state": "approved"}
            for pid, ws in posts])


def measure(url: str, rounds: int) -> None:
    # The periodic jobs run in their own `ventanilla clock` process at this scale; in the web
    # process they would rebuild the crisis detectors from 100,000 posts during the measurement.
    env = {**os.environ, "VENTANILLA_DATABASE_URL": url, "VENTANILLA_RUN_CLOCK": "false"}
    port = 8765
    server = subprocess.Popen([sys.executable, "-m", "ventanilla.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        client = httpx.Client(base_url=base, timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"email": "bench@example.com", "password": "bench-password-1",
                                    "csrf_token": token, "next": "/"})
        for label, path in [("first page", "/"), ("filter es+P3", "/?language=es&priority=3"),
                            ("search 'maleta'", "/?q=maleta"), ("page 50", "/?page=50"),
                            ("hidden spam", "/?hidden=only")]:
            client.get(path)  # warm up
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.status_code
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"  {label:<16} p50 {statistics.median(times):6.1f} ms   p95 {p95:6.1f} ms")
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        print(f"  web process peak RSS {peak:.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--authors", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--url", help="measure an already loaded database instead of loading one")
    args = parser.parse_args()
    if args.url:
        measure(args.url, args.rounds)
        return
    for engine in args.engines.split(","):
        if engine == "postgresql" and not pg_available():
            print("postgresql: skipped, not reachable")
            continue
        with fresh_database(engine) as url:
            t = time.perf_counter()
            load(args.posts, args.authors)
            print(f"{engine}: {args.posts:,} posts loaded in {time.perf_counter() - t:.1f} s")
            measure(url, args.rounds)


if __name__ == "__main__":
    main()
