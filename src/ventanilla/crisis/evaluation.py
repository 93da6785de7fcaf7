"""Scoring a replay: which bursts were alerted in time, and how many alarms were false.

Rules (documented in docs/crisis.md):

- **Bursts** of a brand are its five hours with the most negative posts (ties: earlier hour
  first), counted from the file's own `sentiment` column when it has one — that column only
  scores, it never feeds the detectors — or else from the computed labels. A bursts.csv may
  be given instead.
- An episode **covers** a burst when its warning span (first warning-or-crisis alert to close,
  or to the end of the replay) overlaps the burst's peak hour and its first warning came at
  most `max_lead_hours` before the peak hour started (an alert on all week is not a warning).
- The burst's **first alert** is the earliest of: the first warning of a covering episode, and
  any warning-or-crisis alert (open, escalate, update) of the brand sent in the
  `max_lead_hours` before the peak hour ended *by an episode whose warning span reaches the
  burst* (comes within `margin_hours` of the peak hour; an episode that calmed down long
  before the peak is no warning of it — and it is counted as a false alarm below, so it
  cannot count twice). Watch-level alerts never count. A burst is **hit** when its first
  alert is before the peak hour ended; `lead_minutes` = peak hour end − first alert
  (positive = early). When there is none but an alert came within `late_hours` after the
  peak, the lead is negative (late); otherwise it is null.
- A **false alarm** is a warning-or-crisis episode of a brand whose warning span does not come
  within `margin_hours` of any of that brand's bursts. The rate is per brand and per 7 days
  of replayed time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ventanilla.crisis.episodes import Episode

HOUR = 3600.0
WEEK = 7 * 24 * HOUR


@dataclass(frozen=True, slots=True)
class Burst:
    """One of a brand's largest negative hours. `hour` is an epoch hour index."""

    brand: str
    hour: int
    negative_posts: int
    rank: int

    @property
    def start(self) -> float:
        """Peak hour start, seconds since the epoch."""
        return self.hour * HOUR

    @property
    def end(self) -> float:
        """Peak hour end, seconds since the epoch."""
        return (self.hour + 1) * HOUR


@dataclass(frozen=True, slots=True)
class BurstOutcome:
    """How a burst was alerted."""

    burst: Burst
    first_alert: float | None
    lead_minutes: float | None

    @property
    def hit(self) -> bool:
        """Alerted (warning or crisis) before the peak hour ended."""
        return self.lead_minutes is not None and self.lead_minutes > 0


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """The windows of the scoring rules, in hours."""

    bursts_per_brand: int = 5
    max_lead_hours: float = 12.0
    late_hours: float = 3.0
    margin_hours: float = 3.0


@dataclass(frozen=True, slots=True)
class Score:
    """Outcomes of all bursts and the false-alarm figures."""

    outcomes: list[BurstOutcome]
    false_alarms: list[Episode]
    brands: list[str]
    weeks: float

    @property
    def false_alarms_per_brand_week(self) -> float:
        """False alarms per scored brand per 7 days of replayed time."""
        if not self.brands or self.weeks <= 0:
            return 0.0
        return len(self.false_alarms) / (len(self.brands) * self.weeks)

    @property
    def hit_rate(self) -> float:
        """Share of all bursts alerted before their peak hour ended."""
        return sum(o.hit for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def largest_burst_hit_rate(self) -> float:
        """Share of brands whose largest burst was alerted before its peak hour ended."""
        largest = [o for o in self.outcomes if o.burst.rank == 1]
        return sum(o.hit for o in largest) / len(largest) if largest else 0.0

    def false_alarms_by_brand(self) -> dict[str, int]:
        """False alarms counted per brand (every scored brand listed)."""
        counts = Counter(str(e.brand) for e in self.false_alarms)
        return {brand: counts.get(brand, 0) for brand in self.brands}


def bursts_from_hours(negative_by_brand_hour: Counter[tuple[str, int]], per_brand: int = 5) -> list[Burst]:
    """Each brand's `per_brand` hours with the most negative posts."""
    by_brand: dict[str, list[tuple[int, int]]] = {}
    for (brand, hour), count in negative_by_brand_hour.items():
        if count > 0:
            by_brand.setdefault(brand, []).append((hour, count))
    bursts: list[Burst] = []
    for brand in sorted(by_brand):
        ranked = sorted(by_brand[brand], key=lambda hc: (-hc[1], hc[0]))[:per_brand]
        for rank, (hour, count) in enumerate(ranked, start=1):
            bursts.append(Burst(brand=brand, hour=hour, negative_posts=count, rank=rank))
    return bursts


def _warning_span(episode: Episode, end_of_replay: float) -> tuple[float, float] | None:
    if episode.first_warning_at is None:
        return None
    closed = episode.closed_at if episode.closed_at is not None else end_of_replay
    return episode.first_warning_at, max(closed, episode.first_warning_at)


def score(
    episodes: Iterable[Episode],
    bursts: Sequence[Burst],
    *,
    alerts: Iterable[tuple[str | None, float, int]] = (),
    start: float,
    end: float,
    rules: ScoringRules | None = None,
) -> Score:
    """Score a replay covering [start, end] against the bursts.

    `alerts` are (brand, time, episode number) of every warning-or-crisis alert sent (open,
    escalate, update).
    """
    rules = rules or ScoringRules()
    margin = rules.margin_hours * HOUR
    max_lead = rules.max_lead_hours * HOUR
    warned: dict[str, list[tuple[float, float]]] = {}
    warned_episodes: list[tuple[Episode, tuple[float, float]]] = []
    span_of: dict[int, tuple[float, float]] = {}
    for episode in episodes:
        span = _warning_span(episode, end)
        if span is None or episode.brand is None:
            continue
        warned.setdefault(episode.brand, []).append(span)
        warned_episodes.append((episode, span))
        span_of[episode.number] = span
    # Each alert with the end of its episode's warning span (alerts of an episode that never
    # reached warning, e.g. from a stale snapshot, end where they were sent).
    sent: dict[str, list[tuple[float, float]]] = {}
    for brand, moment, number in alerts:
        if brand is not None:
            closed = span_of.get(number, (moment, moment))[1]
            sent.setdefault(brand, []).append((moment, max(closed, moment)))

    outcomes: list[BurstOutcome] = []
    for burst in bursts:
        first: float | None = None
        for first_warning, closed in warned.get(burst.brand, []):
            overlaps = first_warning < burst.end and closed >= burst.start
            recent = first_warning >= burst.start - max_lead
            if overlaps and recent and (first is None or first_warning < first):
                first = first_warning
        for moment, closed in sent.get(burst.brand, []):
            in_lead = burst.end - max_lead <= moment < burst.end
            reaches = closed >= burst.start - margin
            if in_lead and reaches and (first is None or moment < first):
                first = moment
        if first is None:
            late = [
                fw
                for fw in [w for w, _c in warned.get(burst.brand, [])] + [m for m, _c in sent.get(burst.brand, [])]
                if burst.end <= fw < burst.end + rules.late_hours * HOUR
            ]
            first = min(late) if late else None
        lead = None if first is None else round((burst.end - first) / 60.0, 1)
        outcomes.append(BurstOutcome(burst=burst, first_alert=first, lead_minutes=lead))

    by_brand: dict[str, list[Burst]] = {}
    for burst in bursts:
        by_brand.setdefault(burst.brand, []).append(burst)
    false_alarms = [
        episode
        for episode, (first_warning, closed) in warned_episodes
        if not any(
            first_warning < b.end + margin and closed >= b.start - margin for b in by_brand.get(str(episode.brand), [])
        )
    ]
    weeks = max(end - start, HOUR) / WEEK
    brands = sorted(set(by_brand) | set(warned))
    return Score(outcomes=outcomes, false_alarms=false_alarms, brands=brands, weeks=weeks)
