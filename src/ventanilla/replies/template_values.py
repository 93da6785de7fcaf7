"""The variables a reply template can use, and their values for one draft context."""

from __future__ import annotations

from ventanilla.replies.draft_context import DraftContext
from ventanilla.replies.networks import canonical_network

# name -> what it holds. The lead's template editor lists these; anything else is an error.
TEMPLATE_VARIABLES: dict[str, str] = {
    "lang": "customer's language: es or en",
    "stage": "playbook stage: first_public, private_followup, resolution, satisfaction_check, "
    "fixed_notice",
    "intent": "wants_fix, wants_heard, question, praise or spam",
    "reason": "taxonomy code of the complaint (late, billing, ...)",
    "reason_phrase": "the problem with its article, for an apology ('el retraso', 'the delay')",
    "reason_topic": "the kind of problem ('retrasos', 'a billing problem')",
    "public": "true when everyone can read the reply",
    "network": "network name (x, facebook, ...) or empty",
    "handle": "the customer's @handle when the reply is on X (else empty)",
    "name": "the customer's first name as the network shows it, or empty",
    "agent": "the agent's first name (signature)",
    "brand": "the company name",
    "promise": "the promised time to answer, written out ('24 horas', '24 hours')",
    "promise_short": "the promised time, short ('24 h', '24h')",
    "promise_hours": "the promised time in hours (number)",
    "channel": "where to continue privately ('mensaje directo', 'DM', 'e-mail')",
    "survey_url": "link to the satisfaction survey, or empty",
    "goodwill_offer": "the 'something more' the agent offers, or empty",
    "improvement_note": "what changed thanks to the complaint, or empty",
    "compact": "0 full text, 1 compact, 2 minimal: templates shorten as it grows",
}

_REASON_PHRASES = {
    "es": {
        "late": ("el retraso", "retrasos"),
        "cancelled": ("la cancelación", "cancelaciones"),
        "lost_damaged": ("la pérdida o el daño", "artículos perdidos o dañados"),
        "lost": ("la pérdida", "artículos perdidos"),
        "damaged": ("el daño", "artículos dañados"),
        "customer_service": ("la atención que recibiste", "atención al cliente"),
        "booking_web_app": ("el fallo con la reserva o la app", "reservas y la app"),
        "billing": ("el problema con el cobro", "cobros y facturas"),
        "quality": ("el problema de calidad", "calidad"),
        "staff": ("el trato que recibiste", "trato del personal"),
        "waiting": ("la espera", "esperas"),
        "safety": ("lo que nos cuentas sobre seguridad", "seguridad"),
        "other": ("lo ocurrido", "servicio"),
    },
    "en": {
        "late": ("the delay", "delays"),
        "cancelled": ("the cancellation", "cancellations"),
        "lost_damaged": ("the lost or damaged item", "a lost or damaged item"),
        "lost": ("the lost item", "a lost item"),
        "damaged": ("the damaged item", "a damaged item"),
        "customer_service": ("the service you received", "problems with our customer service"),
        "booking_web_app": ("the problem with the booking or app", "a problem with bookings or the app"),
        "billing": ("the billing problem", "a billing problem"),
        "quality": ("the quality problem", "a quality problem"),
        "staff": ("how you were treated", "how our staff treated you"),
        "waiting": ("the wait", "long waiting times"),
        "safety": ("the safety issue you raised", "a safety issue"),
        "other": ("what happened", "a problem with our service"),
    },
}

_DEFAULT_CHANNEL = {
    ("es", True): ("mensaje directo", "DM"),
    ("es", False): ("este chat", "este chat"),
    ("en", True): ("direct message", "DM"),
    ("en", False): ("this chat", "this chat"),
}


def _promise(hours: int, lang: str) -> tuple[str, str]:
    if hours >= 72 and hours % 24 == 0:
        days = hours // 24
        return (f"{days} días", f"{days} días") if lang == "es" else (f"{days} days", f"{days} days")
    if lang == "es":
        return (f"{hours} hora" if hours == 1 else f"{hours} horas"), f"{hours} h"
    return (f"{hours} hour" if hours == 1 else f"{hours} hours"), f"{hours}h"


def _clean(value: str | None) -> str:
    # Values come from the network or the agent; keep them on one line.
    return " ".join((value or "").split())


def template_values(ctx: DraftContext, compact: int = 0) -> dict[str, object]:
    """The values of every TEMPLATE_VARIABLES name for `ctx` at a compactness level."""
    network = canonical_network(ctx.network) or ""
    handle = _clean(ctx.customer_handle)
    if handle and not handle.startswith("@"):
        handle = "@" + handle
    phrase, topic = _REASON_PHRASES[ctx.customer_lang][ctx.reason]
    promise, promise_short = _promise(ctx.promise_hours, ctx.customer_lang)
    full_channel, short_channel = _DEFAULT_CHANNEL[(ctx.customer_lang, ctx.public)]
    channel = _clean(ctx.private_channel) or (short_channel if compact else full_channel)
    return {
        "lang": ctx.customer_lang,
        "stage": ctx.stage,
        "intent": ctx.intent,
        "reason": ctx.reason,
        "reason_phrase": phrase,
        "reason_topic": topic,
        "public": ctx.public,
        "network": network,
        "handle": handle if ctx.public and network == "x" else "",
        "name": _clean(ctx.customer_name),
        "agent": _clean(ctx.agent_name),
        "brand": _clean(ctx.brand),
        "promise": promise,
        "promise_short": promise_short,
        "promise_hours": ctx.promise_hours,
        "channel": channel,
        "survey_url": _clean(ctx.survey_url),
        "goodwill_offer": _clean(ctx.goodwill_offer),
        "improvement_note": _clean(ctx.improvement_note),
        "compact": compact,
    }
