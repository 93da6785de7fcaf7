"""An episode alerts once, is updated as it grows and closes when it calms."""

from __future__ import annotations

from ventanilla.crisis.detectors import Assessment
from ventanilla.crisis.episodes import EpisodeTracker, EventKind
from ventanilla.crisis.settings import DetectorSettings, Level

T0 = 1_424_649_600.0


def assessment(level: Level, count: int, z: float) -> Assessment:
    return Assessment(level, count, 4.0, z, (count + 1) / 5, "hour", f"{count} negative posts")


def topic() -> tuple[str, tuple[str, ...]]:
    return "cancelled flights", ("my flight was cancelled",)


def test_one_episode_opens_escalates_updates_and_closes() -> None:
    tracker = EpisodeTracker(DetectorSettings(calm_minutes=60, update_min_minutes=30))
    timeline = [
        (0, assessment(Level.watch, 12, 3.5)),
        (5, assessment(Level.watch, 13, 3.6)),  # same level: nothing new to say
        (10, assessment(Level.warning, 20, 6.0)),
        (15, assessment(Level.warning, 22, 6.5)),
        (50, assessment(Level.warning, 40, 9.0)),  # grew by more than half: update
        (55, assessment(Level.crisis, 60, 12.0)),
        (120, assessment(Level.calm, 6, 0.5)),
        (170, assessment(Level.calm, 4, 0.0)),
        (200, assessment(Level.calm, 4, 0.0)),
    ]
    kinds = []
    for minute, verdict in timeline:
        for event in tracker.assess("Acme", T0 + minute * 60, verdict, topic):
            kinds.append((minute, event.kind, event.episode.level))
    assert kinds == [
        (0, EventKind.open, Level.watch),
        (10, EventKind.escalate, Level.warning),
        (50, EventKind.update, Level.warning),
        (55, EventKind.escalate, Level.crisis),
        (120, EventKind.close, Level.crisis),
    ]
    (episode,) = tracker.all_episodes()
    assert episode.first_warning_at == T0 + 600
    assert episode.peak_negative_hour == 60
    assert episode.topic == "cancelled flights"
    assert not episode.is_open


def test_hysteresis_keeps_a_simmering_episode_open() -> None:
    tracker = EpisodeTracker(DetectorSettings(calm_minutes=60, calm_z=2.0))
    tracker.assess("Acme", T0, assessment(Level.warning, 20, 6.0), topic)
    # Below the watch threshold but above calm_z for two hours: still the same episode.
    for minute in range(5, 125, 5):
        simmering = assessment(Level.calm, 10, 2.5)
        assert tracker.assess("Acme", T0 + minute * 60, simmering, topic) == []
    assert len(tracker.open_episodes()) == 1
    events = tracker.assess("Acme", T0 + 200 * 60, assessment(Level.calm, 3, 0.0), topic)
    assert [e.kind for e in events] == [EventKind.close]


def test_brands_have_separate_episodes() -> None:
    tracker = EpisodeTracker(DetectorSettings())
    a = tracker.assess("Acme", T0, assessment(Level.warning, 20, 6.0), topic)
    b = tracker.assess("Globex", T0, assessment(Level.watch, 9, 3.1), topic)
    assert a[0].episode.number != b[0].episode.number
    assert {e.brand for e in tracker.open_episodes()} == {"Acme", "Globex"}
