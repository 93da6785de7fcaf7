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
