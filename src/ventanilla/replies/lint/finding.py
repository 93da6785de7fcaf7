"""One problem the tone linter found in a reply."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["low", "medium", "high"]

RULE_IDS: tuple[str, ...] = (
    "rudeness",
    "blaming",
    "justifying",
    "impossible_promise",
    "interrogation",
    "indifference",
    "no_next_step",
    "personal_data_public",
    "wrong_language",
    "too_long",
    "shouting",
)

# Severities that count as "the linter objects": low findings are hints for the agent.
BLOCKING_SEVERITIES: frozenset[str] = frozenset({"medium", "high"})


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken in `text[start:end]`, with a constructive suggestion in the reply's language."""

    rule: str
    severity: Severity
    start: int
    end: int
    suggestion: str
    message: str

    @property
    def blocking(self) -> bool:
        """True for medium and high findings, the ones evaluation counts as predictions."""
        return self.severity in BLOCKING_SEVERITIES

    def as_dict(self) -> dict[str, object]:
        """The finding as plain JSON-ready data."""
        return asdict(self)
