"""Streaming crisis signals: rolling 5-minute and 1-hour aggregates per stream.

A *stream* is a (brand, channel, reason) key. Every post updates its own stream and the
roll-ups (brand, channel, "*"), (brand, "*", reason) and (brand, "*", "*"), so a lead can
read the brand as a whole or drill down. Each stream keeps a ring of twelve 5-minute buckets
(one hour) and running sums, so an update costs O(1) amortised and memory per stream is fixed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

BUCKET_SECONDS = 300
BUCKETS_PER_HOUR = 12
HOUR_SECONDS = BUCKET_SECONDS * BUCKETS_PER_HOUR
ANY = "*"

# Metric positions inside a bucket (plain lists are the fastest thing CPython offers here).
POSTS, NEGATIVE, COMPLAINTS, WEIGHTED, HIGH_REACH = range(5)
_METRICS = 5


@dataclass(frozen=True, slots=True)
class CrisisPost:
    """The few facts about one labelled post that crisis detection needs.

    `time` is seconds since the epoch (UTC); `engagement` is likes + shares + replies;
    `followers` is the author's reach when the network gave it.
    """

    time: float
    brand: str | None
    negative: bool
    complaint: bool
    channel: str = "unknown"
    reason: str = "unknown"
    engagement: int = 0
    followers: int | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """Aggregates over one window (5 minutes or 1 hour) of one stream."""

    posts: int
    negative: int
    complaints: int
    weighted_volume: float
    high_reach: int

    @property
    def negative_share(self) -> float:
        """Share of posts in the window that are negative (0 when the window is empty)."""
        return self.negative / self.posts if self.posts else 0.0


StreamKey = tuple[str | None, str, str]


def engagement_weight(engagement: int) -> float:
    """How much one post counts in the engagement-weighted volume: 1 + ln(1 + engagement).

    Logarithmic so that one viral post counts more than a quiet one without drowning the
    volume of many ordinary complaints.
    """
    return 1.0 + math.log1p(max(engagement, 0))


class RollingWindow:
    """Twelve 5-minute buckets of the five metrics plus running 1-hour sums."""

    __slots__ = ("_buckets", "_ids", "hour", "last_bucket", "last_time")

    def __init__(self) -> None:
        self._buckets = [[0.0] * _METRICS for _ in range(BUCKETS_PER_HOUR)]
        self._ids = [-1] * BUCKETS_PER_HOUR
        self.hour = [0.0] * _METRICS
        self.last_bucket = -1
        self.last_time = 0.0

    def advance(self, bucket: int) -> None:
        """Move the window forward to `bucket`, expiring buckets older than one hour."""
        last = self.last_bucket
        if bucket <= last:
            return
        start = max(last + 1, bucket - BUCKETS_PER_HOUR + 1)
        # At most twelve slots are cleared however long the gap: O(1) amortised.
        hour = self.hour
        for b in range(start, bucket + 1):
            slot = b % BUCKETS_PER_HOUR
            if self._ids[slot] != -1:
                old = self._buckets[slot]
                for i in range(_METRICS):
                    hour[i] -= old[i]
                    old[i] = 0.0
            self._ids[slot] = b
        if bucket - last >= BUCKETS_PER_HOUR:
            # Everything expired: reset the sums exactly so float error cannot creep in.
            for i in range(_METRICS):
                hour[i] = 0.0
        self.last_bucket = bucket

    def add(self, time: float, values: tuple[float, float, float, float, float]) -> bool:
        """Add one post's metrics at `time`; False when it is older than the window (dropped)."""
        bucket = int(time // BUCKET_SECONDS)
        if bucket > self.last_bucket:
            self.advance(bucket)
        elif bucket <= self.last_bucket - BUCKETS_PER_HOUR:
            return False
        cell = self._buckets[bucket % BUCKETS_PER_HOUR]
        hour = self.hour
        # Unrolled: this is the hottest line of crisis detection.
        v0, v1, v2, v3, v4 = values
        cell[0] += v0
        cell[1] += v1
        cell[2] += v2
        cell[3] += v3
        cell[4] += v4
        hour[0] += v0
        hour[1] += v1
        hour[2] += v2
        hour[3] += v3
        hour[4] += v4
        if time > self.last_time:
            self.last_time = time
        return True

    def merge(self, other: RollingWindow) -> None:
        """Add another window's buckets into this one (both already advanced alike)."""
        if other.last_bucket > self.last_bucket:
            self.advance(other.last_bucket)
        for slot in range(BUCKETS_PER_HOUR):
            if other._ids[slot] == -1 or other._ids[slot] <= self.last_bucket - BUCKETS_PER_HOUR:
                continue
            self._ids[slot] = other._ids[slot]
            mine, theirs = self._buckets[slot], other._buckets[slot]
            for i in range(_METRICS):
                mine[i] += theirs[i]
                self.hour[i] += theirs[i]
        self.last_time = max(self.last_time, other.last_time)

    def five_minutes(self) -> WindowFigures:
        """Figures of the current (latest) 5-minute bucket."""
        if self.last_bucket < 0:
            return _figures([0.0] * _METRICS)
        return _figures(self._buckets[self.last_bucket % BUCKETS_PER_HOUR])

    def one_hour(self) -> WindowFigures:
        """Figures of the last twelve 5-minute buckets."""
        return _figures(self.hour)


def _figures(values: list[float]) -> WindowFigures:
    return WindowFigures(
        posts=round(values[POSTS]),
        negative=round(values[NEGATIVE]),
        complaints=round(values[COMPLAINTS]),
        weighted_volume=values[WEIGHTED],
        high_reach=round(values[HIGH_REACH]),
    )


class SignalBoard:
    """All streams of a workspace. `observe` is the only write; reads are by key.

    Each post updates two windows: its leaf stream (brand, channel, reason) and its brand's
    total. Partial roll-ups such as (brand, channel, "*") are summed from the leaves when read,
    which is rare (when an alert is raised or a lead looks), so the hot path stays short.
    `max_streams` bounds memory: when exceeded, streams idle for more than an hour are
    dropped (their windows are empty anyway).
    """

    def __init__(self, *, high_reach_followers: int = 10_000, max_streams: int = 20_000) -> None:
        self.high_reach_followers = high_reach_followers
        self.max_streams = max_streams
        self._streams: dict[StreamKey, RollingWindow] = {}
        self.late_posts = 0

    def observe(self, post: CrisisPost) -> RollingWindow:
        """Add one post to its stream and its brand's total; return the brand-wide window."""
        followers = post.followers
        values = (
            1.0,
            1.0 if post.negative else 0.0,
            1.0 if post.complaint else 0.0,
            1.0 + math.log1p(post.engagement) if post.engagement > 0 else 1.0,
            1.0 if followers is not None and followers >= self.high_reach_followers else 0.0,
        )
        streams = self._streams
        total_key = (post.brand, ANY, ANY)
        total = streams.get(total_key) or self._new(total_key)
        if not total.add(post.time, values):
            self.late_posts += 1
            return total
        leaf_key = (post.brand, post.channel, post.reason)
        leaf = streams.get(leaf_key) or self._new(leaf_key)
        leaf.add(post.time, values)
        return total

    def _new(self, key: StreamKey) -> RollingWindow:
        if len(self._streams) >= self.max_streams:
            self._evict_idle()
        window = RollingWindow()
        self._streams[key] = window
        return window

    def _evict_idle(self) -> None:
        newest = max((w.last_time for w in self._streams.values()), default=0.0)
        idle = [k for k, w in self._streams.items() if w.last_time < newest - HOUR_SECONDS]
        for key in idle:
            del self._streams[key]

    def _latest_bucket(self, brand: str | None) -> int:
        total = self._streams.get((brand, ANY, ANY))
        return total.last_bucket if total is not None else -1

    def window(self, brand: str | None, channel: str = ANY, reason: str = ANY) -> RollingWindow:
        """The rolling window of one stream or roll-up, up to the brand's latest post.

        "*" for channel and/or reason sums over them; unseen streams give an empty window.
        """
        latest = self._latest_bucket(brand)
        if channel == ANY and reason == ANY:
            found = self._streams.get((brand, ANY, ANY))
            return found if found is not None else RollingWindow()
        if channel != ANY and reason != ANY:
            leaf = self._streams.get((brand, channel, reason))
            if leaf is None:
                return RollingWindow()
            leaf.advance(latest)
            return leaf
        summed = RollingWindow()
        for (b, c, r), leaf in self._streams.items():
            if b != brand or c == ANY or (channel != ANY and c != channel):
                continue
            if reason != ANY and r != reason:
                continue
            leaf.advance(latest)
            summed.merge(leaf)
        return summed

    def streams(self) -> Iterator[tuple[StreamKey, RollingWindow]]:
        """Every stream (brand totals and leaves) with its window."""
        yield from self._streams.items()

    def __len__(self) -> int:
        return len(self._streams)

    def top_reasons(self, brand: str | None, limit: int = 3) -> list[tuple[str, int]]:
        """The brand's reasons with the most negative posts in the last hour."""
        latest = self._latest_bucket(brand)
        counts: dict[str, float] = {}
        for (b, c, r), leaf in self._streams.items():
            if b != brand or c == ANY:
                continue
            leaf.advance(latest)
            counts[r] = counts.get(r, 0.0) + leaf.hour[NEGATIVE]
        ranked = [(r, round(n)) for r, n in counts.items() if n >= 0.5]
        ranked.sort(key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]
