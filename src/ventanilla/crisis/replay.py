"""Replay a timestamped CSV of posts through triage and crisis detection, and score it.

parse (tolerant, like ingest: bad rows are skipped and counted) → sort by `created_at` →
label with the injected labeller (never the file's label columns) → signals → detectors →
episodes. The file's `sentiment` column, when present, is used only to find the bursts the
alerts are scored against.

Brands: the `brand` column when the file has one; otherwise the first @mention of the text,
lower-cased, with handles named by fewer than `min_brand_share` of the mentioning posts
grouped as "other" (posts without a mention have no brand and are not scored).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from ventanilla.crisis.episodes import Episode, EpisodeEvent, EventKind
from ventanilla.crisis.evaluation import HOUR, Burst, Score, ScoringRules, bursts_from_hours, score
from ventanilla.crisis.monitor import CrisisMonitor
from ventanilla.crisis.settings import DetectorSettings, Level
from ventanilla.crisis.signals import CrisisPost
from ventanilla.ingest.schema import IncomingAuthor, IncomingPost, PostKind

_MENTION = re.compile(r"@(\w+)")
LABEL_BATCH = 2048
OTHER_BRAND = "other"


class Labeller(Protocol):
    """What replay needs from triage: batch labels as arrays of label strings."""

    def label_batch(self, texts: Sequence[str], labels: Sequence[str] = ...) -> Mapping[str, Any]:
        """Labels for `texts`, one array per requested label name."""
        ...


@dataclass(slots=True)
class CsvRead:
    """Posts parsed from a CSV, in file order, with what was skipped and why."""

    posts: list[IncomingPost]
    file_sentiments: list[str | None]
    has_brand_column: bool
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        """Rows that could not be read."""
        return sum(self.skipped.values())


def parse_time(value: str) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (naive times are taken as UTC)."""
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _int(value: str | None) -> int:
    try:
        return max(0, int(float(value))) if value else 0
    except ValueError:
        return 0


def _open_text(path: Path) -> io.TextIOBase:
    head = path.read_bytes()[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return open(path, encoding="utf-16", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def read_csv(path: Path) -> CsvRead:
    """Parse a CSV of the shared data's shape; malformed rows are skipped and counted."""
    csv.field_size_limit(1_000_000)
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        read = CsvRead(posts=[], file_sentiments=[], has_brand_column="brand" in columns)
        if "created_at" not in columns or "text" not in columns:
            raise ValueError(f"{path}: a crisis replay needs 'created_at' and 'text' columns")
        for number, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                read.skipped["wrong number of fields"] += 1
                continue
            try:
                created = parse_time(row["created_at"])
            except ValueError:
                read.skipped["bad created_at"] += 1
                continue
            try:
                post = IncomingPost(
                    network=(row.get("network") or row.get("channel") or "csv")[:32],
                    external_id=(row.get("id") or f"row-{number}")[:255],
                    author=IncomingAuthor(handle=(row.get("author") or "unknown")[:255]),
                    text=row["text"],
                    kind=PostKind.reply if (row.get("is_reply") or "").lower() == "true" else PostKind.mention,
                    created_at=created,
                    language=(row.get("lang") or None),
                    shares=_int(row.get("retweet_count")),
                    replies=_int(row.get("reply_count")),
                    likes=_int(row.get("like_count") or row.get("favorite_count")),
                    brand=(row.get("brand") or "").strip() or None,
                )
            except ValidationError:
                read.skipped["invalid post"] += 1
                continue
            read.posts.append(post)
            sentiment = (row.get("sentiment") or "").strip().lower()
            read.file_sentiments.append(sentiment or None)
    return read


def first_mention(text: str) -> str | None:
    """The first @handle of a text, lower-cased, or None."""
    found = _MENTION.search(text)
    return found.group(1).lower() if found else None


def assign_brands(read: CsvRead, *, min_brand_share: float = 0.10) -> list[str | None]:
    """The brand of each post (see the module docstring for the rule)."""
    if read.has_brand_column:
        return [p.brand for p in read.posts]
    handles = [first_mention(p.text) for p in read.posts]
    counts = Counter(h for h in handles if h is not None)
    total = sum(counts.values())
    brands = {h for h, n in counts.items() if total and n / total >= min_brand_share}
    return [None if h is None else (h if h in brands else OTHER_BRAND) for h in handles]


@dataclass(frozen=True, slots=True)
class Labels:
    """Computed labels of every post, in file order."""

    negative: list[bool]
    complaint: list[bool]
    reason: list[str]


def label_posts(labeller: Labeller, texts: Sequence[str]) -> Labels:
    """Label texts in batches; reasons when the labeller can give them, else "unknown"."""
    negative: list[bool] = []
    complaint: list[bool] = []
    reason: list[str] = []
    with_reason = True
    for start in range(0, len(texts), LABEL_BATCH):
        batch = list(texts[start : start + LABEL_BATCH])
        result: Mapping[str, Any] | None = None
        if with_reason:
            try:
                result = labeller.label_batch(batch, labels=("sentiment", "complaint", "reason"))
            except (KeyError, ValueError, TypeError):
                with_reason = False
        if result is None:
            result = labeller.label_batch(batch, labels=("sentiment", "complaint"))
        negative.extend(str(v) == "negative" for v in result["sentiment"])
        complaint.extend(str(v) == "yes" for v in result["complaint"])
        if with_reason and "reason" in result:
            reason.extend(str(v) if v else "unknown" for v in result["reason"])
        else:
            reason.extend("unknown" for _ in batch)
    return Labels(negative=negative, complaint=complaint, reason=reason)


def read_bursts_file(path: Path, per_brand: int = 5) -> list[Burst]:
    """Bursts from a bursts.csv (brand, hour_utc, negative_posts)."""
    counts: Counter[tuple[str, int]] = Counter()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            hour_text = row["hour_utc"].strip()
            if hour_text.endswith("Z") and len(hour_text) == 17:
                hour_text = hour_text[:-1] + ":00Z"
            hour = int(parse_time(hour_text).timestamp() // HOUR)
            counts[(row["brand"], hour)] = int(row["negative_posts"])
    return bursts_from_hours(counts, per_brand)


@dataclass(slots=True)
class ReplayReport:
    """Everything a replay found: events, episodes, bursts and their score."""

    posts: int
    skipped: Counter[str]
    seconds: float
    events: list[EpisodeEvent]
    episodes: list[Episode]
    score: Score
    bursts_source: str

    def to_json(self) -> dict[str, Any]:
        """The replay contract: one JSON object (see docs/crisis.md)."""
        outcomes = self.score.outcomes
        return {
            "posts": self.posts,
            "skipped": self.skipped_total,
            "skipped_reasons": dict(sorted(self.skipped.items())),
            "seconds": round(self.seconds, 3),
            "alerts": [event_json(e) for e in self.events],
            "bursts": [
                {
                    "brand": o.burst.brand,
                    "rank": o.burst.rank,
                    "peak_hour": iso(o.burst.start),
                    "negative_posts": o.burst.negative_posts,
                    "first_alert": iso(o.first_alert) if o.first_alert is not None else None,
                    "lead_minutes": o.lead_minutes,
                    "hit": o.hit,
                }
                for o in outcomes
            ],
            "bursts_source": self.bursts_source,
            "episodes": len(self.episodes),
            "warning_episodes": sum(e.first_warning_at is not None for e in self.episodes),
            "false_alarms": len(self.score.false_alarms),
            "false_alarms_by_brand": self.score.false_alarms_by_brand(),
            "false_alarms_per_brand_week": round(self.score.false_alarms_per_brand_week, 3),
            "hit_rate": round(self.score.hit_rate, 3),
            "largest_burst_hit_rate": round(self.score.largest_burst_hit_rate, 3),
            "weeks": round(self.score.weeks, 3),
        }

    @property
    def skipped_total(self) -> int:
        """Rows skipped while parsing."""
        return sum(self.skipped.values())


def iso(seconds: float) -> str:
    """Seconds since the epoch as ISO 8601 UTC with a Z."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_json(event: EpisodeEvent) -> dict[str, Any]:
    """One alert of the replay contract."""
    episode = event.episode
    return {
        "time": iso(event.time),
        "event": str(event.kind),
        "episode": episode.number,
        "level": episode.level.name,
        "brand": episode.brand,
        "topic": episode.topic,
        "why": episode.why,
        "examples": list(episode.examples),
    }


def replay(
    path: Path,
    labeller: Labeller,
    *,
    settings: DetectorSettings | None = None,
    speed: float = 0.0,
    bursts_file: Path | None = None,
    rules: ScoringRules | None = None,
    min_brand_share: float = 0.10,
) -> ReplayReport:
    """Replay `path` through `labeller` and the crisis monitor; score the alerts.

    `speed` > 0 paces the replay: N seconds of post time pass per second of wall time
    (0 = as fast as possible).
    """
    started = time.perf_counter()
    read = read_csv(path)
    brands = assign_brands(read, min_brand_share=min_brand_share)
    labels = label_posts(labeller, [p.text for p in read.posts])
    order = sorted(range(len(read.posts)), key=lambda i: read.posts[i].created_at)

    monitor = CrisisMonitor(settings)
    events: list[EpisodeEvent] = []
    wall_start = time.perf_counter()
    first_time: float | None = None
    last_time = 0.0
    for i in order:
        post = read.posts[i]
        moment = post.created_at.timestamp()
        if first_time is None:
            first_time = moment
        if speed > 0:
            lag = (moment - first_time) / speed - (time.perf_counter() - wall_start)
            if lag > 0:
                time.sleep(lag)
        last_time = max(last_time, moment)
        events.extend(
            monitor.observe(
                CrisisPost(
                    time=moment,
                    brand=brands[i],
                    negative=labels.negative[i],
                    complaint=labels.complaint[i],
                    channel=post.network,
                    reason=labels.reason[i],
                    engagement=post.likes + post.shares + post.replies,
                    followers=post.author.followers,
                    text=post.text,
                )
            )
        )

    if bursts_file is not None:
        bursts = read_bursts_file(bursts_file)
        source = str(bursts_file)
    else:
        counts: Counter[tuple[str, int]] = Counter()
        use_file = any(s is not None for s in read.file_sentiments)
        for i in order:
            brand = brands[i]
            if brand is None:
                continue
            negative = read.file_sentiments[i] == "negative" if use_file else labels.negative[i]
            if negative:
                counts[(brand, int(read.posts[i].created_at.timestamp() // HOUR))] += 1
        bursts = bursts_from_hours(counts)
        source = "file sentiment column" if use_file else "computed labels"

    episodes = monitor.episodes.all_episodes()
    sent = [
        (e.episode.brand, e.time, e.episode.number)
        for e in events
        if e.kind is not EventKind.close and e.episode.level >= Level.warning
    ]
    result = score(
        episodes,
        bursts,
        alerts=sent,
        start=first_time if first_time is not None else 0.0,
        end=last_time,
        rules=rules,
    )
    return ReplayReport(
        posts=len(read.posts),
        skipped=read.skipped,
        seconds=time.perf_counter() - started,
        events=events,
        episodes=episodes,
        score=result,
        bursts_source=source,
    )


def alert_events(events: Sequence[EpisodeEvent]) -> list[EpisodeEvent]:
    """The events worth a notification: openings, escalations and updates (not closes)."""
    return [e for e in events if e.kind is not EventKind.close]
