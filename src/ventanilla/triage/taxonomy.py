"""Label spaces shared by training, prediction and evaluation.

Complaint reasons use one code per reason, the same in Spanish and English. The
ten reasons of the English airline data map one-to-one onto ten codes, so macro-F1
over the file's own ten classes is well defined; ``billing`` and ``safety`` come
from our own Spanish examples (banks, telcos, shops, delivery, airlines).
"""

from __future__ import annotations

REASON_CODES: tuple[str, ...] = (
    "late",
    "cancelled",
    "lost",
    "damaged",
    "customer_service",
    "booking_web_app",
    "billing",
    "quality",
    "staff",
    "waiting",
    "safety",
    "other",
)

REASON_DESCRIPTIONS: dict[str, str] = {
    "late": "delays: late flight, late delivery, late technician",
    "cancelled": "cancelled flight, order, appointment or service",
    "lost": "lost luggage, lost parcel, item never arrived",
    "damaged": "damaged luggage or goods",
    "customer_service": "unanswered calls/messages, unhelpful or rude support channel",
    "booking_web_app": "booking, web site, app, login, online account problems",
    "billing": "wrong charges, double charges, refunds owed, fees, invoices",
    "quality": "bad flight/product/service quality, broken features, outages",
    "staff": "complaints about named or on-site staff (crew, shop assistants, couriers)",
    "waiting": "long lines and queues, long waits on site",
    "safety": "danger to people: smoke, fire, injuries, unsafe vehicles or products",
    "other": "a complaint whose reason cannot be told",
}

AIRLINE_REASON_TO_CODE: dict[str, str] = {
    "Late Flight": "late",
    "Cancelled Flight": "cancelled",
    "Lost Luggage": "lost",
    "Damaged Luggage": "damaged",
    "Customer Service Issue": "customer_service",
    "Flight Booking Problems": "booking_web_app",
    "Bad Flight": "quality",
    "Flight Attendant Complaints": "staff",
    "longlines": "waiting",
    "Can't Tell": "other",
}
CODE_TO_AIRLINE_REASON: dict[str, str] = {v: k for k, v in AIRLINE_REASON_TO_CODE.items()}

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
LANGUAGES: tuple[str, ...] = ("en", "es", "other")
YES_NO: tuple[str, ...] = ("no", "yes")
INTENTS: tuple[str, ...] = ("wants_fix", "wants_heard", "question", "praise", "spam")


def reason_code(value: str) -> str:
    """Map an original English reason name (or a code) to our reason code."""
    value = value.strip()
    if value in AIRLINE_REASON_TO_CODE:
        return AIRLINE_REASON_TO_CODE[value]
    low = value.lower()
    for name, code in AIRLINE_REASON_TO_CODE.items():
        if name.lower() == low:
            return code
    return low if low in REASON_CODES else "other"
