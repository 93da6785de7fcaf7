"""What a playbook draft needs to know about the case it answers."""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("es", "en")
REASONS = (
    "late",
    "cancelled",
    "lost_damaged",
    "customer_service",
    "booking_web_app",
    "billing",
    "quality",
    "staff",
    "waiting",
    "safety",
    "other",
    # triage.taxonomy splits lost_damaged in two; drafts accept its codes as they come.
    "lost",
    "damaged",
)
INTENTS = ("wants_fix", "wants_heard", "question", "praise", "spam")
STAGES = ("first_public", "private_followup", "resolution", "satisfaction_check", "fixed_notice")


class DraftContextError(ValueError):
    """A draft context with a value outside the playbook's lists."""


@dataclass(frozen=True, slots=True)
class DraftContext:
    """The case as the playbook sees it. Only data the network gave us; nothing personal."""

    customer_lang: str
    reason: str
    intent: str
    stage: str
    public: bool
    agent_name: str
    brand: str
    network: str | None = None
    customer_handle: str | None = None
    customer_name: str | None = None
    promise_hours: int = 24
    private_channel: str | None = None
    survey_url: str | None = None
    goodwill_offer: str | None = None
    improvement_note: str | None = None

    def __post_init__(self) -> None:
        for value, allowed, name in (
            (self.customer_lang, LANGUAGES, "customer_lang"),
            (self.reason, REASONS, "reason"),
            (self.intent, INTENTS, "intent"),
            (self.stage, STAGES, "stage"),
        ):
            if value not in allowed:
                raise DraftContextError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        if not self.agent_name.strip():
            raise DraftContextError("agent_name must not be empty")
        if not self.brand.strip():
            raise DraftContextError("brand must not be empty")
        if not 1 <= self.promise_hours <= 24 * 14:
            raise DraftContextError("promise_hours must be between 1 and 336")

    @property
    def is_complaint(self) -> bool:
        """True for the intents that answer a complaint (they get the full care rules)."""
        return self.intent in ("wants_fix", "wants_heard")
