"""The labels triage gives one post. Shared by ingest, cases, crisis and the web views."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Label:
    """One predicted label with its confidence (0-1) and the words that drove it."""

    value: str
    confidence: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UrgencyCue:
    """A phrase that makes a post urgent: kind is safety, legal, media or churn."""

    kind: str
    start: int
    end: int
    text: str


@dataclass(slots=True)
class TriageResult:
    """Everything triage says about one text; `model_version` names the artefacts used."""

    language: Label
    complaint: Label
    sentiment: Label
    reason: Label | None
    offensive: Label
    intent: Label
    urgency: list[UrgencyCue] = field(default_factory=list)
    model_version: str = ""


@dataclass(slots=True)
class TriageBatch:
    """Triage of a batch of texts as columns (one list per label, one entry per text).

    What :meth:`Triager.predict_batch` returns for callers that store labels in bulk: no
    per-text objects. ``evidence`` lists are fresh per text; ``reason`` values and their
    confidence and evidence are ``None`` where the text has no reason (neither a complaint
    nor negative).
    """

    values: dict[str, list[str | None]]
    confidence: dict[str, list[float | None]]
    evidence: dict[str, list[list[str] | None]]
    urgency: list[list[UrgencyCue]]
    model_version: str = ""

    def __len__(self) -> int:
        return len(self.urgency)
