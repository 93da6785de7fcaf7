"""Impact score (0-100) of a post and its priority P1..P4. Pure functions, no I/O.

The score is the sum of five parts, each capped:

* ``reach`` (0-30): log10 of followers, +5 for verified accounts;
* ``velocity`` (0-20): engagement per hour since posting (likes + 2*shares + replies);
* ``severity`` (0-30): negative-sentiment confidence, severe reasons and urgency cues;
* ``visibility`` (0-10): public posts count fully, private messages a little;
* ``repeat`` (0-10): the author's previous complaints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLDS: tuple[float, float, float] = (75.0, 50.0, 25.0)

SEVERE_REASONS: Mapping[str, float] = {
    "safety": 12.0,
    "lost": 6.0,
    "damaged": 5.0,
    "cancelled": 6.0,
    "billing": 6.0,
    "staff": 4.0,
    "late": 3.0,
    "customer_service": 3.0,
    "booking_web_app": 3.0,
    "quality": 3.0,
    "waiting": 2.0,
    "other": 1.0,
}
URGENCY_WEIGHTS: Mapping[str, float] = {"safety": 10.0, "legal": 7.0, "media": 6.0, "churn": 5.0}


@dataclass(frozen=True, slots=True)
class Impact:
    """A score 0-100 and its parts (reach, velocity, severity, visibility, repeat)."""

    score: float
    breakdown: dict[str, float]


def impact_score(
    followers: int,
    verified: bool = False,
    likes: int = 0,
    shares: int = 0,
    replies: int = 0,
    age_hours: float = 1.0,
    reason: str | None = None,
    negative_confidence: float = 0.0,
    urgency_kinds: Iterable[str] = (),
    public: bool = True,
    previous_complaints: int = 0,
) -> Impact:
    """Score one post; ``breakdown`` values sum to ``score`` (both rounded to 2 decimals)."""
    reach = min(25.0, 5.0 * math.log10(1.0 + max(0, followers)))
    reach = min(30.0, reach + (5.0 if verified else 0.0))
    engagement = max(0, likes) + 2 * max(0, shares) + max(0, replies)
    per_hour = engagement / max(0.25, age_hours)
    velocity = min(20.0, 6.0 * math.log10(1.0 + per_hour))
    severity = 12.0 * min(1.0, max(0.0, negative_confidence))
    if reason:
        severity += SEVERE_REASONS.get(reason, 1.0)
    kinds = set(urgency_kinds)
    severity += sum(URGENCY_WEIGHTS.get(k, 0.0) for k in kinds)
    severity = min(30.0, severity)
    visibility = 10.0 if public else 3.0
    repeat = min(10.0, 3.0 * max(0, previous_complaints))
    parts = {
        "reach": round(reach, 2),
        "velocity": round(velocity, 2),
        "severity": round(severity, 2),
        "visibility": round(visibility, 2),
        "repeat": round(repeat, 2),
    }
    return Impact(score=round(sum(parts.values()), 2), breakdown=parts)


def priority(score: float, thresholds: tuple[float, float, float] = DEFAULT_THRESHOLDS) -> str:
    """P1 when score >= thresholds[0], P2 >= thresholds[1], P3 >= thresholds[2], else P4."""
    p1, p2, p3 = thresholds
    if not p1 >= p2 >= p3:
        raise ValueError("thresholds must be in decreasing order (P1, P2, P3)")
    if score >= p1:
        return "P1"
    if score >= p2:
        return "P2"
    if score >= p3:
        return "P3"
    return "P4"


def impact_scores(
    followers: Sequence[int],
    verified: Sequence[bool],
    likes: Sequence[int],
    shares: Sequence[int],
    replies: Sequence[int],
    age_hours: Sequence[float],
    reasons: Sequence[str | None],
    negative_confidence: Sequence[float],
    urgency_kinds: Sequence[Iterable[str]],
    public: Sequence[bool],
    previous_complaints: Sequence[int],
) -> list[Impact]:
    """:func:`impact_score` of every post of a batch (the same figures, the same arithmetic),
    without a call per post; reach is worked out once per (followers, verified)."""
    log10 = math.log10
    reach_of: dict[tuple[int, bool], float] = {}
    severe = SEVERE_REASONS.get
    weight = URGENCY_WEIGHTS.get
    out: list[Impact] = []
    for f, ver, lk, sh, rp, age, reason, neg, kinds, pub, prev in zip(
            followers, verified, likes, shares, replies, age_hours, reasons, negative_confidence,
            urgency_kinds, public, previous_complaints, strict=True):
        key = (f, bool(ver))
        reach = reach_of.get(key)
        if reach is None:
            r = min(25.0, 5.0 * log10(1.0 + max(0, f)))
            reach = reach_of[key] = round(min(30.0, r + (5.0 if ver else 0.0)), 2)
        engagement = max(0, lk) + 2 * max(0, sh) + max(0, rp)
        velocity = min(20.0, 6.0 * log10(1.0 + engagement / max(0.25, age))) if engagement else 0.0
        severity = 12.0 * min(1.0, max(0.0, neg))
        if reason:
            severity += severe(reason, 1.0)
        if kinds:
            severity += sum(weight(k, 0.0) for k in set(kinds))
        severity = min(30.0, severity)
        parts = {
            "reach": reach,
            "velocity": round(velocity, 2),
            "severity": round(severity, 2),
            "visibility": 10.0 if pub else 3.0,
            "repeat": round(min(10.0, 3.0 * max(0, prev)), 2),
        }
        out.append(Impact(score=round(sum(parts.values()), 2), breakdown=parts))
    return out
