"""Follow-up after the solution: a satisfaction check some hours after a case is resolved.

Resolving a case schedules one (``followup_hours`` in the workspace settings, 48 by default).
When it is due, `run_due_followups` prepares the playbook's satisfaction-check message with a
survey link: sent by e-mail when the case came by e-mail and SMTP is configured, otherwise left
as a draft for an agent to send privately. The customer answers once on `/survey/{token}`; a
low score reopens the case and tells the leads. Every step is audited on the case.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, Role, User, Workspace
from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.cases import service as cases
from ventanilla.cases.guardrails import is_do_not_engage
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.config import get_settings
from ventanilla.db import utcnow
from ventanilla.followups.drafting import case_language, prepare
from ventanilla.followups.mail import MailError, mail_configured, send_mail
from ventanilla.followups.models import CsatResponse, Followup, FollowupChannel, FollowupState
from ventanilla.ingest.models import Author, Channel

log = logging.getLogger(__name__)

DEFAULT_FOLLOWUP_HOURS = 48
MAX_FOLLOWUP_HOURS = 24 * 30
SURVEY_DAYS = 30  # an unanswered survey link stops working after this
LOW_SCORE = 2  # this score or lower reopens the case
MAX_COMMENT = 4_000
SURVEY_ACTOR = Actor("customer survey")
EMAIL_SUBJECT = {"es": "¿Quedó todo resuelto? — {brand}", "en": "Is everything sorted? — {brand}"}


class FollowupError(ValueError):
    """A follow-up or survey request that cannot be carried out, with the reason."""


class SurveyNotFound(FollowupError):
    """No survey has this token (forged, mistyped, or never sent)."""


class SurveyAnswered(FollowupError):
    """The survey was already answered: one answer per link."""


class SurveyExpired(FollowupError):
    """The survey link is too old, or the case was reopened before it was answered."""


def token_digest(token: str) -> str:
    """The SHA-256 stored for a survey token (the token itself is only in the message)."""
    return hashlib.sha256(token.encode()).hexdigest()


def followup_hours(workspace: Workspace) -> int:
    """Hours between resolution and the satisfaction check: settings["followup_hours"] or 48."""
    try:
        hours = int((workspace.settings or {}).get("followup_hours", DEFAULT_FOLLOWUP_HOURS))
    except (TypeError, ValueError):
        return DEFAULT_FOLLOWUP_HOURS
    return hours if 1 <= hours <= MAX_FOLLOWUP_HOURS else DEFAULT_FOLLOWUP_HOURS


def _pending(session: Session, case: Case) -> list[Followup]:
    return list(session.scalars(select(Followup).where(
        Followup.case_id == case.id, Followup.state == FollowupState.scheduled.value)))


def schedule_followup(session: Session, *, case: Case, actor: Actor = SYSTEM) -> Followup | None:
    """Schedule the satisfaction check for a resolved case (idempotent: one pending at a time).
    Returns None for a "do not engage" case, which gets no follow-up."""
    if is_do_not_engage(session, case=case):
        record(session, actor, "followup.skipped", target_type="case", target_id=case.id,
               workspace_id=case.workspace_id, after={"why": "do_not_engage"})
        return None
    pending = _pending(session, case)
    if pending:
        return pending[0]
    workspace = session.get(Workspace, case.workspace_id)
    channel = session.get(Channel, case.channel_id)
    hours = followup_hours(workspace) if workspace else DEFAULT_FOLLOWUP_HOURS
    resolved_at = case.resolved_at or utcnow()
    followup = Followup(
        workspace_id=case.workspace_id, case_id=case.id, due_at=resolved_at + timedelta(hours=hours),
        channel=(FollowupChannel.email if channel and channel.network == "email" else FollowupChannel.private).value,
        state=FollowupState.scheduled.value, language=case_language(session, case=case),
    )
    session.add(followup)
    session.flush()
    record(session, actor, "followup.scheduled", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id,
           after={"followup_id": followup.id, "due_at": followup.due_at.isoformat(), "hours": hours,
                  "channel": followup.channel})
    return followup


def expire_pending(session: Session, *, case: Case, actor: Actor = SYSTEM, why: str = "case_reopened") -> int:
    """Expire the case's follow-ups that have not been answered (the case was reopened)."""
    count = 0
    for followup in session.scalars(select(Followup).where(
            Followup.case_id == case.id,
            Followup.state.in_((FollowupState.scheduled.value, FollowupState.sent.value)))):
        followup.state = FollowupState.expired.value
        followup.error = why
        count += 1
        record(session, actor, "followup.expired", target_type="case", target_id=case.id,
               workspace_id=case.workspace_id, after={"followup_id": followup.id, "why": why})
    session.flush()
    return count


def survey_url(token: str, base_url: str | None = None) -> str:
    """The public survey link for ``token``."""
    return f"{(base_url or get_settings().base_url).rstrip('/')}/survey/{token}"


@dataclass(slots=True)
class FollowupRun:
    """What one run did: follow-ups prepared as drafts, e-mailed, and expired."""

    drafted: list[int] = field(default_factory=list)
    emailed: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def _prepare_one(session: Session, followup: Followup, case: Case, now: datetime, base_url: str | None,
                 run: FollowupRun) -> None:
    token = secrets.token_urlsafe(24)
    message = prepare(session, case=case, stage="satisfaction_check", survey_url=survey_url(token, base_url))
    followup.token_hash = token_digest(token)
    followup.language = message.language
    followup.message = message.text
    author = session.get(Author, case.author_id)
    address = author.handle if author and "@" in author.handle else None
    if followup.channel == FollowupChannel.email.value and address and mail_configured():
        workspace = session.get(Workspace, case.workspace_id)
        try:
            send_mail(to=address, subject=EMAIL_SUBJECT[message.language].format(
                brand=workspace.name if workspace else ""), body=message.text)
        except MailError as exc:
            # Nothing is lost: the message waits as a draft for an agent to send privately.
            followup.channel = FollowupChannel.private.value
            followup.error = str(exc)[:2000]
        else:
            followup.state = FollowupState.sent.value
            followup.sent_at = now
            followup.recipient = address
            run.emailed.append(followup.id)
            record(session, SYSTEM, "followup.emailed", target_type="case", target_id=case.id,
                   workspace_id=case.workspace_id,
                   after={"followup_id": followup.id, "to": address, "language": message.language})
            return
    elif followup.channel == FollowupChannel.email.value:
        followup.channel = FollowupChannel.private.value
        followup.error = "no SMTP server configured" if address else "the author has no e-mail address"
    run.drafted.append(followup.id)
    record(session, SYSTEM, "followup.prepared", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id,
           after={"followup_id": followup.id, "language": message.language, "note": followup.error})


def run_due_followups(session: Session, now: datetime | None = None, *, base_url: str | None = None,
                      limit: int = 500) -> FollowupRun:
    """Prepare every follow-up that is due, and expire survey links nobody answered in time.

    Idempotent: a follow-up is prepared once (its message is then set), so running again, or
    from two workers one after the other, changes nothing more."""
    now = now or utcnow()
    run = FollowupRun()
    due = list(session.scalars(select(Followup).where(
        Followup.state == FollowupState.scheduled.value, Followup.message.is_(None), Followup.due_at <= now)
        .order_by(Followup.due_at, Followup.id).limit(limit)))
    for followup in due:
        case = session.get(Case, followup.case_id)
        if case is None:
            continue
        if case.status not in (CaseStatus.resolved.value, CaseStatus.closed.value):
            expire_pending(session, case=case, why="case_reopened")
            run.expired.append(followup.id)
            continue
        if is_do_not_engage(session, case=case):
            expire_pending(session, case=case, why="do_not_engage")
            run.expired.append(followup.id)
            continue
        _prepare_one(session, followup, case, now, base_url, run)
    stale = now - timedelta(days=SURVEY_DAYS)
    for followup in session.scalars(select(Followup).where(
            Followup.state.in_((FollowupState.scheduled.value, FollowupState.sent.value)),
            Followup.message.is_not(None), Followup.due_at <= stale)):
        followup.state = FollowupState.expired.value
        followup.error = "survey not answered in time"
        run.expired.append(followup.id)
        record(session, SYSTEM, "followup.expired", target_type="case", target_id=followup.case_id,
               workspace_id=followup.workspace_id, after={"followup_id": followup.id, "why": "not_answered"})
    session.flush()
    return run


def mark_sent(session: Session, *, followup: Followup, actor: Actor) -> Followup:
    """An agent says they sent the prepared message privately."""
    if followup.message is None:
        raise FollowupError("the follow-up message is not prepared yet")
    if followup.state != FollowupState.scheduled.value:
        raise FollowupError(f"this follow-up is already {followup.state}")
    followup.state = FollowupState.sent.value
    followup.sent_at = utcnow()
    followup.delivered_by = actor.user_id
    session.flush()
    record(session, actor, "followup.sent", target_type="case", target_id=followup.case_id,
           workspace_id=followup.workspace_id, after={"followup_id": followup.id, "channel": followup.channel})
    return followup


@dataclass(frozen=True, slots=True)
class SurveyView:
    """What the public survey page needs: the language to speak and whether it can be answered."""

    followup: Followup
    language: str
    brand: str
    answered: bool


def _by_token(session: Session, token: str) -> Followup:
    if not token or len(token) > 200:
        raise SurveyNotFound("no such survey")
    followup = session.scalar(select(Followup).where(Followup.token_hash == token_digest(token)))
    if followup is None:
        raise SurveyNotFound("no such survey")
    return followup


def survey(session: Session, *, token: str) -> SurveyView:
    """The survey behind ``token``; raises SurveyNotFound for a token we never issued."""
    followup = _by_token(session, token)
    workspace = session.get(Workspace, followup.workspace_id)
    answered = session.scalar(select(CsatResponse.id).where(CsatResponse.followup_id == followup.id)) is not None
    return SurveyView(followup, followup.language or "es", workspace.name if workspace else "", answered)


def lead_recipients(session: Session, *, workspace_id: int) -> list[User]:
    """Who hears about an unhappy customer: the workspace's leads (its admins when it has none)."""
    for roles in ((Role.lead.value,), (Role.admin.value,)):
        users = list(session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.workspace_id == workspace_id, Membership.role.in_(roles), User.is_active.is_(True))
            .order_by(User.id)))
        if users:
            return users
    return []


def _notify_leads(session: Session, case: Case, score: int, comment: str) -> None:
    leads = lead_recipients(session, workspace_id=case.workspace_id)
    emailed: list[str] = []
    if mail_configured():
        base = get_settings().base_url.rstrip("/")
        for lead in leads:
            try:
                send_mail(to=lead.email, subject=f"CSAT {score}/5 — case #{case.id} reopened",
                          body=f"The customer rated case #{case.id} {score}/5 and it was reopened.\n\n"
                               f"Comment: {comment or '-'}\n\n{base}/cases/{case.id}\n")
                emailed.append(lead.email)
            except MailError as exc:  # the audit event below is the notification of record
                log.warning("lead notification failed: %s", exc)
    record(session, SURVEY_ACTOR, "case.csat_low", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id,
           after={"score": score, "notified": [u.id for u in leads], "emailed": emailed})


def answer_survey(session: Session, *, token: str, score: int, comment: str = "",
                  now: datetime | None = None) -> CsatResponse:
    """Store the customer's one answer. A score of 2 or less reopens the case and notifies the leads.

    Raises SurveyNotFound (unknown token), SurveyAnswered (second answer), SurveyExpired, or
    FollowupError (score outside 1–5)."""
    now = now or utcnow()
    followup = _by_token(session, token)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise FollowupError("the score must be a whole number from 1 to 5")
    if session.scalar(select(CsatResponse.id).where(CsatResponse.followup_id == followup.id)) is not None:
        raise SurveyAnswered("this survey has already been answered")
    if followup.state == FollowupState.expired.value or followup.due_at <= now - timedelta(days=SURVEY_DAYS):
        raise SurveyExpired("this survey link has expired")
    comment = (comment or "").strip()[:MAX_COMMENT]
    response = CsatResponse(followup_id=followup.id, score=score, comment=comment, answered_at=now)
    session.add(response)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a second answer raced this one
        raise SurveyAnswered("this survey has already been answered") from exc
    followup.state = FollowupState.answered.value
    case = session.get(Case, followup.case_id)
    assert case is not None
    record(session, SURVEY_ACTOR, "followup.answered", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id,
           after={"followup_id": followup.id, "score": score, "comment": comment[:500]})
    if score <= LOW_SCORE:
        if case.status in (CaseStatus.resolved.value, CaseStatus.closed.value):
            cases.set_status(session, case=case, status=CaseStatus.open, actor=SURVEY_ACTOR)
        _notify_leads(session, case, score, comment)
    session.flush()
    return response


def followups_for(session: Session, *, case: Case) -> list[tuple[Followup, CsatResponse | None]]:
    """The case's follow-ups with their answers, oldest first."""
    rows = session.execute(
        select(Followup, CsatResponse).outerjoin(CsatResponse, CsatResponse.followup_id == Followup.id)
        .where(Followup.case_id == case.id).order_by(Followup.id)).all()
    return [(f, r) for f, r in rows]
