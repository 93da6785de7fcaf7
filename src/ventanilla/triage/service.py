"""Triage applied to stored posts: labels, evidence, urgency and impact saved on each post;
the priority goes to its case. Agents' corrections are kept and adapt the model."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Workspace
from ventanilla.audit.service import Actor, record
from ventanilla.bulk import one_of
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.ingest.models import Post, split_labels
from ventanilla.ingest.pending import PendingPost, load_pending
from ventanilla.triage.models import LabelCorrection
from ventanilla.triage.result import Label, TriageBatch, TriageResult

log = logging.getLogger(__name__)

LABELS = ("language", "complaint", "sentiment", "reason", "offensive", "intent")
PRIORITY_NUMBER = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


def _label_details(label: Label | None) -> dict[str, Any] | None:
    if label is None:
        return None
    return {"confidence": label.confidence, "evidence": list(label.evidence)}


def _thresholds(session: Session, workspace_id: int) -> tuple[float, float, float]:
    from ventanilla.triage.impact import DEFAULT_THRESHOLDS

    settings = session.scalar(select(Workspace.settings).where(Workspace.id == workspace_id)) or {}
    value = settings.get("priority_thresholds")
    if isinstance(value, list) and len(value) == 3:
        return (float(value[0]), float(value[1]), float(value[2]))
    return DEFAULT_THRESHOLDS


def labels_for(result: TriageResult, *, followers: int | None, verified: bool, likes: int, shares: int,
               replies: int, age_hours: float, public: bool, previous_complaints: int,
               thresholds: tuple[float, float, float]) -> dict[str, Any]:
    """The JSON stored on a post: flat values for filtering, details for the agent."""
    from ventanilla.triage.impact import impact_score, priority

    negative = result.sentiment.confidence if result.sentiment.value == "negative" else 0.0
    impact = impact_score(
        followers=followers or 0, verified=verified, likes=likes, shares=shares, replies=replies,
        age_hours=age_hours, reason=result.reason.value if result.reason else None,
        negative_confidence=negative, urgency_kinds=[u.kind for u in result.urgency], public=public,
        previous_complaints=previous_complaints)
    level = priority(impact.score, thresholds)
    return {
        "language": result.language.value,
        "complaint": result.complaint.value,
        "sentiment": result.sentiment.value,
        "reason": result.reason.value if result.reason else None,
        "offensive": result.offensive.value,
        "intent": result.intent.value,
        "priority": PRIORITY_NUMBER[level],
        "impact": impact.score,
        "model_version": result.model_version,
        "details": {
            **{name: _label_details(getattr(result, name)) for name in LABELS},
            "impact": impact.breakdown,
            "urgency": [{"kind": u.kind, "start": u.start, "end": u.end, "text": u.text} for u in result.urgency],
        },
    }


def stored_labels(batch: TriageBatch, posts: Sequence[PendingPost], *, age_hours: Sequence[float],
                  previous: Mapping[int, int], thresholds: tuple[float, float, float]) -> list[dict[str, Any]]:
    """The JSON stored on each post of a batch: what :func:`labels_for` gives for each post's
    :class:`TriageResult`, built straight from the batch's columns."""
    from ventanilla.triage.impact import impact_scores, priority

    values, conf, evidence = batch.values, batch.confidence, batch.evidence
    sentiment = values["sentiment"]
    urgency = batch.urgency
    impacts = impact_scores(
        [p.followers or 0 for p in posts], [p.verified for p in posts], [p.likes for p in posts],
        [p.shares for p in posts], [p.replies for p in posts], age_hours, values["reason"],
        [c if v == "negative" and c is not None else 0.0 for v, c in zip(sentiment, conf["sentiment"], strict=True)],
        [[u.kind for u in cues] for cues in urgency], [p.public for p in posts],
        [previous.get(p.author_id, 0) for p in posts])
    level: dict[float, int] = {}
    version = batch.model_version
    # Column by column (one comprehension per label), then one dict per post from a zip:
    # the same documents, with the same key order, as a loop over indices would build.
    det_language, det_complaint, det_sentiment, det_reason, det_offensive, det_intent = (
        [None if v is None else {"confidence": c, "evidence": e}
         for v, c, e in zip(values[name], conf[name], evidence[name], strict=True)]
        for name in LABELS)
    cues = [[{"kind": u.kind, "start": u.start, "end": u.end, "text": u.text} for u in found]
            for found in urgency]
    out: list[dict[str, Any]] = []
    append = out.append
    for (lang, comp, sent, why, off, want, impact, d_lang, d_comp, d_sent, d_why, d_off, d_want,
         d_cues) in zip(values["language"], values["complaint"], values["sentiment"], values["reason"],
                        values["offensive"], values["intent"], impacts, det_language, det_complaint,
                        det_sentiment, det_reason, det_offensive, det_intent, cues, strict=True):
        score = impact.score
        number = level.get(score)
        if number is None:
            number = level[score] = PRIORITY_NUMBER[priority(score, thresholds)]
        append({
            "language": lang,
            "complaint": comp,
            "sentiment": sent,
            "reason": why,
            "offensive": off,
            "intent": want,
            "priority": number,
            "impact": score,
            "model_version": version,
            "details": {"language": d_lang, "complaint": d_comp, "sentiment": d_sent, "reason": d_why,
                        "offensive": d_off, "intent": d_want, "impact": impact.breakdown, "urgency": d_cues},
        })
    return out


def _triager(workspace_id: int) -> Any:
    """The model that labels the workspace's posts: its adapted one, else the shipped one."""
    from ventanilla.triage.model import load_triager

    adapted = workspace_model_dir(workspace_id)
    return load_triager(adapted if (adapted / "triage.json").exists() else None)


@dataclass(slots=True)
class Prediction:
    """The model's output for a batch of texts, worked out ahead of `label_pending` (the
    importer predicts the next chunk in another process while this one is written).
    `label_pending` takes it only for exactly these texts and the version of the model the
    workspace uses now: the same output."""

    model_version: str
    texts: list[str]
    batch: TriageBatch


def predict_ahead(workspace_id: int, texts: list[str]) -> Prediction | None:
    """What the workspace's model says about ``texts`` (no database: safe in another thread
    or process; the result pickles)."""
    try:
        triager = _triager(workspace_id)
    except (ImportError, FileNotFoundError):
        return None
    return Prediction(triager.version, texts, triager.predict_batch(texts))


def label_pending(session: Session, posts: Sequence[PendingPost], *, now: datetime | None = None,
                  predicted: Prediction | None = None) -> int:
    """Label posts in memory (``labels`` and ``language`` set on each); returns how many.

    The posts are still unsaved when ingest runs in this process, or read back by a worker.
    ``predicted``: the model's output worked out ahead (`predict_ahead`), used when it is for
    these very texts and the model this workspace uses now.
    """
    if not posts:
        return 0
    workspace_id = posts[0].workspace_id
    try:
        triager = _triager(workspace_id)
    except (ImportError, FileNotFoundError) as exc:
        log.warning("triage model not available, posts stay unlabelled: %s", exc)
        return 0
    now = now or utcnow()
    author_ids = list({p.author_id for p in posts})
    previous: dict[int, int] = {}
    for start in range(0, len(author_ids), 1000):
        previous.update((r[0], int(r[1])) for r in session.execute(
            select(Case.author_id, func.count()).where(one_of(session, Case.author_id, author_ids[start:start + 1000]))
            .group_by(Case.author_id)))
    thresholds = _thresholds(session, workspace_id)
    ages = [max(0.0, (now - p.created_at).total_seconds() / 3600) for p in posts]
    texts = [p.text for p in posts]
    if predicted is not None and predicted.model_version == triager.version and predicted.texts == texts:
        batch = predicted.batch
    else:
        batch = triager.predict_batch(texts)
    stored = stored_labels(batch, posts, age_hours=ages, previous=previous, thresholds=thresholds)
    for post, labels in zip(posts, stored, strict=True):
        post.labels = labels
        post.language = post.language or labels["language"]
    return len(posts)


def label_posts(session: Session, post_ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Label the stored posts that have no labels yet; returns how many were labelled."""
    if not post_ids:
        return 0
    posts = [p for p in load_pending(session, list(post_ids)) if p.labels is None]
    if not label_pending(session, posts, now=now):
        return 0
    session.execute(update(Post), [{"id": p.id, "labels": values, "label_details": details, "language": p.language}
                                   for p in posts for values, details in (split_labels(p.labels),)])
    return len(posts)


# Values an agent may set for each label (the models' own classes).
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "language": ("es", "en", "other"),
    "complaint": ("yes", "no"),
    "sentiment": ("negative", "neutral", "positive"),
    "offensive": ("yes", "no"),
    "intent": ("wants_fix", "wants_heard", "question", "praise", "spam"),
}


def correctable_values() -> dict[str, tuple[str, ...]]:
    """Every label an agent can correct, with its allowed values."""
    from ventanilla.triage.taxonomy import REASON_CODES

    return {**CORRECTABLE, "reason": REASON_CODES}


class CorrectionError(ValueError):
    """A correction that cannot be applied (unknown label or value)."""


def workspace_model_dir(workspace_id: int) -> Path:
    """Where a workspace's adapted model lives (absent until its first correction)."""
    from ventanilla.config import get_settings

    return get_settings().model_dir / f"workspace-{workspace_id}"


def correct_label(session: Session, *, post: Post, label: str, value: str, user_id: int, actor: Actor,
                  adapt: bool = True) -> LabelCorrection:
    """Set one label of a post by hand: stored, audited on its case, and (``adapt``) used to
    update the workspace's model online so similar posts are labelled better before a retrain."""
    allowed = correctable_values()
    if label not in allowed:
        raise CorrectionError(f"unknown label {label!r}; one of: {', '.join(allowed)}")
    if value not in allowed[label]:
        raise CorrectionError(f"{value!r} is not a {label}; one of: {', '.join(allowed[label])}")
    labels = dict(post.labels or {})
    old = labels.get(label)
    labels[label] = value
    details = dict(post.label_details or {})
    details[label] = {"confidence": 1.0, "evidence": [], "corrected_by": actor.name}
    post.labels = labels
    post.label_details = details
    correction = LabelCorrection(workspace_id=post.workspace_id, post_id=post.id, label=label, old_value=old,
                                 new_value=value, text=post.text, user_id=user_id,
                                 model_version=str(labels.get("model_version") or ""))
    session.add(correction)
    session.flush()
    if post.case_id is not None:
        record(session, actor, "case.labels_corrected", target_type="case", target_id=post.case_id,
               workspace_id=post.workspace_id, before={"post_id": post.id, label: old},
               after={"post_id": post.id, label: value})
    if adapt and label != "intent":
        _adapt_model(post.workspace_id, label, post.text, value)
    return correction


def _adapt_model(workspace_id: int, label: str, text: str, value: str) -> None:
    from ventanilla.triage.model import ARTIFACTS_DIR, Triager

    target = workspace_model_dir(workspace_id)
    source = target if (target / "triage.json").exists() else ARTIFACTS_DIR
    try:
        triager = Triager.load(source)
        triager.update(label, [text], [value])
        target.mkdir(parents=True, exist_ok=True)
        triager.save(target)
        from ventanilla.triage import model as model_module

        model_module._load_cached.cache_clear()
    except (OSError, ValueError) as exc:  # the correction itself is kept either way
        log.warning("could not adapt the workspace model: %s", exc)


def corrections(session: Session, *, workspace_id: int) -> list[LabelCorrection]:
    """The workspace's corrections, oldest first (for retraining)."""
    return list(session.scalars(select(LabelCorrection).where(LabelCorrection.workspace_id == workspace_id)
                                .order_by(LabelCorrection.id)))
