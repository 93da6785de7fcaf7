"""Message ids that the templates translate from data, listed here so that pybabel extracts them.

The templates call ``_(case.status)``, ``_(s or "any status")``, ``_(k)``, ``_(post.labels[k])``,
``_(cue.kind)``, ``_(resolution.approval)`` and so on; the extractor only sees string literals, so
without this list these ids would never reach the catalogs.
Nothing imports this module: it exists for ``pybabel extract`` (see ``scripts/update_translations.sh``).
Find the callers with ``grep -rn "_([a-z]" src/ventanilla --include=*.html`` and add any new value
they can show here; ``tests/unit/test_catalogs.py`` checks the case statuses are present.
"""

from __future__ import annotations


def _(message: str) -> str:
    """A marker for the extractor; returns ``message`` unchanged."""
    return message


# Case statuses (``CaseStatus``) and the inbox's extra status filters.
STATUSES = (
    _("new"),
    _("open"),
    _("waiting"),
    _("resolved"),
    _("closed"),
    _("active"),
    _("any status"),
)

# Triage label names (case.html, inbox.html filters, label corrections).
LABEL_NAMES = (
    _("language"),
    _("complaint"),
    _("sentiment"),
    _("reason"),
    _("offensive"),
    _("intent"),
    _("impact"),
    _("confidence"),
    _("words"),
)

# Triage label values: yes/no, sentiments, languages, intents (``triage.taxonomy``).
LABEL_VALUES = (
    _("yes"),
    _("no"),
    _("negative"),
    _("neutral"),
    _("positive"),
    _("es"),
    _("en"),
    _("other"),
    _("wants_fix"),
    _("wants_heard"),
    _("question"),
    _("praise"),
    _("spam"),
)

# Complaint reason codes (``triage.taxonomy.REASON_CODES``); also improvements' root reasons.
REASONS = (
    _("late"),
    _("cancelled"),
    _("lost"),
    _("damaged"),
    _("customer_service"),
    _("booking_web_app"),
    _("billing"),
    _("quality"),
    _("staff"),
    _("waiting"),
    _("safety"),
    _("other"),
)

# Urgency cue kinds (``triage.urgency.URGENCY_LEXICON``).
URGENCY_KINDS = (
    _("safety"),
    _("legal"),
    _("media"),
    _("churn"),
)

# Parts of the impact score (``triage.impact``).
IMPACT_PARTS = (
    _("reach"),
    _("velocity"),
    _("severity"),
    _("visibility"),
    _("repeat"),
)

# Case workflow (``cases.workflow``): hand-off channels, classifications, goodwill kinds, approvals.
HANDOFF_CHANNELS = (
    _("direct_message"),
    _("email"),
    _("phone"),
)
CLASSIFICATIONS = (
    _("justified"),
    _("unjustified"),
    _("abusive"),
)
GOODWILL_KINDS = (
    _("refund"),
    _("voucher"),
    _("discount"),
    _("gift"),
    _("other"),
)
APPROVALS = (
    _("none"),
    _("pending"),
    _("approved"),
    _("rejected"),
)

# Routing rule condition names (``RoutingRule.conditions``).
ROUTING_CONDITIONS = (
    _("reason"),
    _("language"),
    _("channel_id"),
    _("priority_max"),
    _("min_followers"),
)

# Reply statuses (``replies.models.ReplyStatus``) and lint finding severities (``replies.lint.finding``).
REPLY_STATUSES = (
    _("draft"),
    _("needs_approval"),
    _("approved"),
    _("rejected"),
    _("queued"),
    _("sending"),
    _("sent"),
    _("failed"),
)
LINT_SEVERITIES = (
    _("low"),
    _("medium"),
    _("high"),
)

# SLA states (``sla.status.SlaState``) and the business calendar's weekdays (``sla.views.DAY_LABELS``).
SLA_STATES = (
    _("on_track"),
    _("at_risk"),
    _("breached"),
    _("met"),
    _("paused"),
)
WEEKDAYS = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)

# Crisis (``crisis.models``): alert levels, room states, room roles, timeline entry kinds, statement
# states; and the product roles (``accounts.models.Role``) shown when adding people to a room.
CRISIS_LEVELS = (
    _("watch"),
    _("warning"),
    _("crisis"),
)
ROOM_STATES = (
    _("open"),
    _("closed"),
)
ROOM_ROLES = (
    _("commander"),
    _("communications"),
    _("legal"),
    _("hr"),
    _("marketing"),
    _("scribe"),
)
ENTRY_KINDS = (
    _("alert"),
    _("post"),
    _("decision"),
    _("reply"),
    _("status"),
    _("note"),
)
STATEMENT_STATES = (
    _("draft"),
    _("awaiting_signoff"),
    _("published"),
)
PRODUCT_ROLES = (
    _("admin"),
    _("lead"),
    _("agent"),
    _("crisis"),
    _("analyst"),
)

# Improvements (``improvements.models``) and their customer notices; follow-ups (``followups.models``).
IMPROVEMENT_STATES = (
    _("proposed"),
    _("planned"),
    _("shipped"),
)
NOTICE_STATES = (
    _("draft"),
    _("sent"),
)
FOLLOWUP_STATES = (
    _("scheduled"),
    _("sent"),
    _("answered"),
    _("expired"),
)
