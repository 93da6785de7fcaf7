"""Alert episodes: one alert per brand and episode, updated as it grows, closed when it calms.

An episode opens at the first watch-or-louder assessment. While open, a louder level emits an
`escalate` event, a clearly bigger hourly count emits an `update` (throttled), and nothing is
announced twice. Hysteresis: the episode stays active while z >= `calm_z` (lower than the
watch threshold, with at least `min_negative` posts) and closes after `calm_minutes` without
that. The events are what the crisis
room routes to in-app notices, e-mail or webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ventanilla.crisis.detectors import Assessment
from ventanilla.crisis.settings import DetectorSettings, Level


class EventKind(StrEnum):
    """What happened to an episode."""

    open = "open"
    escalate = "escalate"
    update = "update"
    close = "close"


@dataclass(slots=True)
class Episode:
    """One alert episode of one brand. Times are seconds since the epoch (UTC)."""

    number: int
    brand: str | None
    opened_at: float
    level: Level
    why: str
    topic: str
    examples: tuple[str, ...] = ()
    first_warning_at: float | None = None
    peak_negative_hour: int = 0
    peak_z: float = 0.0
    last_active_at: float = 0.0
    last_event_at: float = 0.0
    announced_negative: int = 0
    closed_at: float | None = None
    reasons: tuple[tuple[str, int], ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        """True until the episode calmed down and closed."""
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class EpisodeEvent:
    """An announcement about an episode, with a snapshot of it at that moment."""

    kind: EventKind
    time: float
    episode: Episode


TopicSource = Callable[[], tuple[str, tuple[str, ...]]]


class EpisodeTracker:
    """Turns a stream of assessments per brand into deduplicated episode events."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self._open: dict[str | None, Episode] = {}
        self._count = 0
        self.closed: list[Episode] = []

    def open_episodes(self) -> list[Episode]:
        """Episodes still open, in opening order."""
        return sorted(self._open.values(), key=lambda e: e.number)

    def all_episodes(self) -> list[Episode]:
        """Closed and open episodes, in opening order."""
        return sorted([*self.closed, *self._open.values()], key=lambda e: e.number)

    def assess(self, brand: str | None, now: float, assessment: Assessment, topic: TopicSource) -> list[EpisodeEvent]:
        """Apply one assessment of `brand` at `now`; return the events it causes."""
        s = self.settings
        episode = self._open.get(brand)
        level = assessment.level
        if episode is None:
            if level < Level.watch:
                return []
            self._count += 1
            label, examples = topic()
            episode = Episode(
                number=self._count,
                brand=brand,
                opened_at=now,
                level=level,
                why=assessment.why,
                topic=label,
                examples=examples,
                first_warning_at=now if level >= Level.warning else None,
                peak_negative_hour=assessment.negative_last_hour,
                peak_z=assessment.z,
                last_active_at=now,
                last_event_at=now,
                announced_negative=assessment.negative_last_hour,
            )
            self._open[brand] = episode
            return [EpisodeEvent(EventKind.open, now, replace(episode))]

        simmering = assessment.z >= s.calm_z and assessment.negative_last_hour >= s.min_negative
        if level >= Level.watch or simmering:
            episode.last_active_at = now
        if assessment.negative_last_hour > episode.peak_negative_hour:
            episode.peak_negative_hour = assessment.negative_last_hour
        episode.peak_z = max(episode.peak_z, assessment.z)

        if level > episode.level:
            episode.level = level
            episode.why = assessment.why
            if level >= Level.warning and episode.first_warning_at is None:
                episode.first_warning_at = now
            episode.topic, episode.examples = topic()
            episode.last_event_at = now
            episode.announced_negative = assessment.negative_last_hour
            return [EpisodeEvent(EventKind.escalate, now, replace(episode))]

        grown = assessment.negative_last_hour >= episode.announced_negative * (1 + s.update_growth)
        quiet_long_enough = now - episode.last_event_at >= s.update_min_minutes * 60
        if level >= Level.watch and grown and quiet_long_enough:
            episode.why = assessment.why
            episode.topic, episode.examples = topic()
            episode.last_event_at = now
            episode.announced_negative = assessment.negative_last_hour
            return [EpisodeEvent(EventKind.update, now, replace(episode))]

        if now - episode.last_active_at >= s.calm_minutes * 60:
            episode.closed_at = now
            episode.why = (
                f"calm again: {assessment.negative_last_hour} negative posts in the last hour "
                f"vs usual {assessment.expected:.1f}"
            )
            del self._open[brand]
            self.closed.append(episode)
            return [EpisodeEvent(EventKind.close, now, replace(episode))]
        return []
