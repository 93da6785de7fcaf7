"""The published response promise per channel, and how well the desk keeps it.

A promise is in clock hours ("we reply within 24 h"), as a customer reads it. Whether it
was kept is measured from real first-response times: a case keeps it when its first reply
came within the promised hours of the case opening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Workspace
from ventanilla.audit.service import Actor, record
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.ingest.models import Channel
from ventanilla.sla.epoch import epoch
from ventanilla.sla.models import CaseSla, ChannelPromise
from ventanilla.sla.service import SlaError

MAX_PROMISE_HOURS = 24 * 14


def default_texts(hours: int) -> tuple[str, str]:
    """The promise's wording in Spanish and English when the lead writes none."""
    return f"Respondemos en menos de {hours} h", f"We reply within {hours} h"


@dataclass(slots=True)
class PublicPromise:
    """One public channel's promise as the public page shows it."""

    channel_id: int
    channel: str
    network: str
    hours: int
    text_es: str
    text_en: str


def public_promises(session: Session, *, slug: str) -> tuple[Workspace, list[PublicPromise]] | None:
    """The workspace and the promises of its public channels; None if there is no such workspace."""
    workspace = session.scalar(select(Workspace).where(Workspace.slug == slug))
    if workspace is None:
        return None
    rows = session.execute(
        select(ChannelPromise, Channel.name, Channel.network).join(Channel, Channel.id == ChannelPromise.channel_id)
        .where(ChannelPromise.workspace_id == workspace.id, Channel.is_public.is_(True)).order_by(Channel.name)
    ).all()
    return workspace, [PublicPromise(p.channel_id, name, network, p.hours, p.text_es, p.text_en)
                       for p, name, network in rows]


def promises_by_channel(session: Session, *, workspace_id: int) -> dict[int, ChannelPromise]:
    """Every channel's promise in the workspace, public or not."""
    return {p.channel_id: p for p in session.scalars(
        select(ChannelPromise).where(ChannelPromise.workspace_id == workspace_id))}


@dataclass(slots=True)
class ChannelStats:
    """How one channel keeps its promise."""

    channel_id: int
    channel: str
    promise_hours: int | None
    kept_7: int = 0
    decided_7: int = 0
    kept_30: int = 0
    decided_30: int = 0
    responded_30: int = 0
    p90_seconds: float | None = None

    @property
    def rate_7(self) -> float | None:
        return self.kept_7 / self.decided_7 if self.decided_7 else None

    @property
    def rate_30(self) -> float | None:
        return self.kept_30 / self.decided_30 if self.decided_30 else None


def p90(seconds: Any) -> float | None:
    """The time within which 90 % of the first responses came (nearest rank: an observed value)."""
    values = np.asarray(seconds, dtype=np.float64)
    if not len(values):
        return None
    return float(np.percentile(values, 90, method="inverted_cdf"))


def promise_stats(session: Session, *, workspace_id: int, now: datetime | None = None) -> list[ChannelStats]:
    """Promise-kept rate over the last 7 and 30 days and 30-day p90 first response, per channel.

    A case counts once its outcome is known: answered, or older than the promise without an
    answer (a broken promise). Cases still inside their promise are left out.
    """
    now = now or utcnow()
    since = now - timedelta(days=30)
    channels = session.execute(select(Channel.id, Channel.name).where(Channel.workspace_id == workspace_id)
                               .order_by(Channel.name)).all()
    promises = promises_by_channel(session, workspace_id=workspace_id)
    stats = {cid: ChannelStats(cid, name, promises[cid].hours if cid in promises else None)
             for cid, name in channels}
    answered = func.coalesce(Case.first_response_at, CaseSla.first_responded_at)
    rows = session.execute(
        select(Case.channel_id, epoch(Case.opened_at), epoch(answered))
        .outerjoin(CaseSla, CaseSla.case_id == Case.id)
        .where(Case.workspace_id == workspace_id, Case.opened_at >= since)
    ).all()
    if not rows:
        return list(stats.values())
    channel_ids = np.array([r[0] for r in rows], dtype=np.int64)
    opened = np.array([r[1] for r in rows], dtype=np.float64)
    first = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float64)
    response = first - opened
    now_epoch = now.timestamp()
    for cid, entry in stats.items():
        mine = channel_ids == cid
        answered_mask = mine & ~np.isnan(response)
        entry.responded_30 = int(answered_mask.sum())
        entry.p90_seconds = p90(response[answered_mask])
        if entry.promise_hours is None:
            continue
        limit = entry.promise_hours * 3600.0
        kept = answered_mask & (response <= limit)
        decided = answered_mask | (mine & np.isnan(response) & (now_epoch - opened > limit))
        recent = opened >= now_epoch - 7 * 86400
        entry.kept_30, entry.decided_30 = int(kept.sum()), int(decided.sum())
        entry.kept_7, entry.decided_7 = int((kept & recent).sum()), int((decided & recent).sum())
    return list(stats.values())


@dataclass(slots=True)
class PromiseWarning:
    """The promise is shorter than the time the team needed for 90 % of last month's cases."""

    promise_hours: int
    p90_seconds: float


def set_promise(session: Session, *, workspace_id: int, channel_id: int, hours: int, text_es: str = "",
                text_en: str = "", actor: Actor, now: datetime | None = None) -> PromiseWarning | None:
    """Publish (or change) a channel's promise. Returns a warning when the team would not keep it."""
    if not 1 <= hours <= MAX_PROMISE_HOURS:
        raise SlaError(f"a promise is between 1 and {MAX_PROMISE_HOURS} hours")
    channel = session.scalar(select(Channel).where(Channel.id == channel_id, Channel.workspace_id == workspace_id))
    if channel is None:
        raise SlaError("no such channel")
    default_es, default_en = default_texts(hours)
    promise = session.scalar(select(ChannelPromise).where(ChannelPromise.channel_id == channel_id))
    before = None if promise is None else {"hours": promise.hours, "text_es": promise.text_es,
                                           "text_en": promise.text_en}
    if promise is None:
        promise = ChannelPromise(workspace_id=workspace_id, channel_id=channel_id, hours=hours)
        session.add(promise)
    promise.hours = hours
    promise.text_es = text_es.strip()[:500] or default_es
    promise.text_en = text_en.strip()[:500] or default_en
    promise.updated_at = utcnow()
    session.flush()
    record(session, actor, "sla.promise_set", target_type="channel", target_id=channel_id,
           workspace_id=workspace_id, before=before,
           after={"hours": hours, "text_es": promise.text_es, "text_en": promise.text_en})
    stats = next((s for s in promise_stats(session, workspace_id=workspace_id, now=now)
                  if s.channel_id == channel_id), None)
    if stats and stats.p90_seconds is not None and hours * 3600.0 < stats.p90_seconds:
        return PromiseWarning(hours, stats.p90_seconds)
    return None
