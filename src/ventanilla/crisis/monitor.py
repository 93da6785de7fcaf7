"""The crisis monitor: labelled posts in, episode events out.

It wires the signal board, one detector and one topic tracker per brand, and the episode
tracker. Posts must arrive in time order (the replay sorts them; live ingest is close to it).
A post counts as negative for detection when triage says its sentiment is negative or (with
`complaints_are_negative`, the default) that it is a complaint: sentiment models miss many
terse complaints, and a complaint surge is exactly what a crisis looks like. Every such post
re-assesses its brand (at most every `assess_interval_seconds`); every 5 minutes of post time
all brands are re-assessed so that episodes close even when a brand goes silent.
"""

from __future__ import annotations

from ventanilla.crisis.detectors import BrandDetector
from ventanilla.crisis.episodes import EpisodeEvent, EpisodeTracker
from ventanilla.crisis.settings import DetectorSettings
from ventanilla.crisis.signals import BUCKET_SECONDS, CrisisPost, SignalBoard
from ventanilla.crisis.topics import TopicTracker


class CrisisMonitor:
    """Streaming crisis detection for one workspace (all of its brands)."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.signals = SignalBoard(high_reach_followers=self.settings.high_reach_followers)
        self.episodes = EpisodeTracker(self.settings)
        self._detectors: dict[str | None, BrandDetector] = {}
        self._topics: dict[str | None, TopicTracker] = {}
        self._assessed_at: dict[str | None, float] = {}
        self._tick = -1
        self._started: float | None = None
        self.now = 0.0
        # Settings read on every post, looked up once.
        self._flag_complaints = self.settings.complaints_are_negative
        self._assess_interval = self.settings.assess_interval_seconds

    def observe(self, post: CrisisPost) -> list[EpisodeEvent]:
        """Take one labelled post; return the episode events it (or the clock) caused."""
        events: list[EpisodeEvent] = []
        tick = int(post.time // BUCKET_SECONDS)
        if tick > self._tick:
            if self._tick >= 0:
                events.extend(self.tick(tick * BUCKET_SECONDS))
            self._tick = tick
        if post.time > self.now:
            self.now = post.time
        self.signals.observe(post)
        brand = post.brand
        detector = self._detectors.get(brand)
        if detector is None:
            detector = self._detectors[brand] = BrandDetector(self.settings)
            self._topics[brand] = TopicTracker()
            started = self._started
            if (
                self.settings.history_from_start
                and started is not None
                and post.time - started >= self.settings.learning_hours * 3600.0
            ):
                # Silence is history: the monitor has watched this brand since it started,
                # and it had no posts until now (a brand that appears with a burst is a burst).
                detector.advance(started)
        if self._started is None:
            self._started = post.time
        time = post.time
        if not (post.negative or (post.complaint and self._flag_complaints)):
            detector.advance(time)
            return events
        detector.observe_negative(time)
        self._topics[brand].observe(time, post.text)
        if time - self._assessed_at.get(brand, -1e18) >= self._assess_interval:
            events.extend(self._assess(brand, time))
        return events

    def tick(self, now: float) -> list[EpisodeEvent]:
        """Re-assess every brand at `now` (call at least every few minutes of post time)."""
        events: list[EpisodeEvent] = []
        for brand in list(self._detectors):
            events.extend(self._assess(brand, now))
        return events

    def _assess(self, brand: str | None, now: float) -> list[EpisodeEvent]:
        self._assessed_at[brand] = now
        assessment = self._detectors[brand].assess(now)
        topics = self._topics[brand]

        def topic() -> tuple[str, tuple[str, ...]]:
            found = topics.emerging(now, exclude=self._brand_words(brand))
            if found:
                return found[0].label, found[0].examples
            reasons = self.signals.top_reasons(brand)
            named = [r for r, _n in reasons if r not in ("unknown", "other")]
            return (named[0].replace("_", " ") if named else "negative volume"), ()

        return self.episodes.assess(brand, now, assessment, topic)

    @staticmethod
    def _brand_words(brand: str | None) -> frozenset[str]:
        # "US Airways" -> {"us", "airways", "usairways"}: a brand's own name is no topic.
        if not brand:
            return frozenset()
        words = [w for w in brand.lower().replace("_", " ").split() if w]
        return frozenset([*words, "".join(words)])

    def detector(self, brand: str | None) -> BrandDetector | None:
        """The detector of one brand, if the brand was seen."""
        return self._detectors.get(brand)
