"""Replies on a case: playbook drafts, submission (lint and approval rules), review by a lead,
the workspace's template library and saved replies. Every change is audited on the case.

Sending is the outbox's job (``replies.outbox``): these functions only decide a reply's status
and leave the commit (and the hand-over to the outbox) to the caller.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Role, User, Workspace
from ventanilla.accounts.service import Principal
from ventanilla.audit.service import record
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.replies.draft_context import INTENTS, LANGUAGES, REASONS, STAGES, DraftContext
from ventanilla.replies.drafts import Draft, default_template, draft
from ventanilla.replies.lint import lint
from ventanilla.replies.lint.finding import Finding
from ventanilla.replies.models import Reply, ReplyStatus, ReplyTemplate, SavedReply
from ventanilla.replies.templating import TemplateError, render_template

MAX_REPLY_CHARS = 20_000
MAX_COMMENT_CHARS = 2_000
DEFAULT_PROMISE_HOURS = 24
DEFAULT_CURRENCY = "EUR"
# Goodwill an agent may offer without a lead, per role (None: no limit). Overridden by
# workspace.settings["authority_limits"], e.g. {"agent": 80, "lead": 1000}.
DEFAULT_AUTHORITY_LIMITS: dict[str, Decimal | None] = {
    Role.agent.value: Decimal(50),
    Role.lead.value: Decimal(500),
    Role.admin.value: None,
}
# Template keys the library knows: one per playbook stage, plus the answer to praise.
TEMPLATE_KEYS: tuple[str, ...] = (*STAGES, "praise")
# Why a reply waits for a lead (stored on the reply; "high_finding:<rule>" names the rule).
HIGH_FINDING = "high_finding"
GOODWILL = "goodwill_above_authority"
CRISIS_MODE = "crisis_mode"


class ReplyError(ValueError):
    """A reply request that cannot be carried out, with the reason in plain words."""


class ReplyForbidden(ReplyError):
    """The actor's role does not allow this (approving needs a lead or an admin)."""


# -- what the case tells the playbook ---------------------------------------------------------


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise ReplyError("no such workspace")
    return workspace


def _triage_labels(session: Session, case: Case) -> dict[str, Any]:
    """The labels of the post that opened the case, else of its latest labelled inbound post."""
    if case.origin_post_id is not None:
        labels = session.scalar(select(Post.labels).where(Post.id == case.origin_post_id))
        if labels:
            return dict(labels)
    labels = session.scalar(
        select(Post.labels).where(Post.case_id == case.id, Post.direction == "in", Post.labels.is_not(None))
        .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))
    return dict(labels or {})


def customer_language(session: Session, *, case: Case) -> str:
    """The language to answer in: the case's, else the triage label's, else the workspace's first."""
    labels = _triage_labels(session, case)
    for value in (case.language, labels.get("language")):
        lang = str(value or "").strip().lower().replace("_", "-").split("-")[0]
        if lang in LANGUAGES:
            return lang
    workspace = _workspace(session, case.workspace_id)
    return next((lang for lang in workspace.languages or [] if lang in LANGUAGES), LANGUAGES[0])


def is_complaint(session: Session, *, case: Case) -> bool:
    """True when triage says the case is a complaint (or could not say: care rules then apply)."""
    labels = _triage_labels(session, case)
    if labels.get("intent") in ("praise", "question", "spam"):
        return labels.get("complaint") == "yes"
    return labels.get("complaint") != "no" or labels.get("intent") in ("wants_fix", "wants_heard")


def has_outbound(session: Session, *, case: Case) -> bool:
    """True once we have answered on the case (an outbound post is in its conversation)."""
    return session.scalar(select(Post.id).where(Post.case_id == case.id, Post.direction == "out").limit(1)) is not None


def promise_hours(workspace: Workspace) -> int:
    """The workspace's published response promise in hours (24 unless the lead set another)."""
    try:
        hours = int((workspace.settings or {}).get("promise_hours", DEFAULT_PROMISE_HOURS))
    except (TypeError, ValueError):
        return DEFAULT_PROMISE_HOURS
    return hours if 1 <= hours <= 24 * 14 else DEFAULT_PROMISE_HOURS


def draft_context(session: Session, *, case: Case, user_id: int, stage: str = "first_public",
                  public: bool | None = None, goodwill_offer: str | None = None) -> DraftContext:
    """The playbook's view of the case: customer's language, triage reason and intent, network,
    the agent's first name, the brand and its promise. ``public`` defaults to the channel's."""
    workspace = _workspace(session, case.workspace_id)
    channel = session.get(Channel, case.channel_id)
    author = session.get(Author, case.author_id)
    user = session.get(User, user_id)
    if channel is None or author is None or user is None:
        raise ReplyError("the case's channel, author or agent is missing")
    labels = _triage_labels(session, case)
    reason = labels.get("reason") if labels.get("reason") in REASONS else "other"
    intent = labels.get("intent") if labels.get("intent") in INTENTS else "wants_fix"
    first_name = (author.display_name or "").split()
    return DraftContext(
        customer_lang=customer_language(session, case=case),
        reason=str(reason),
        intent=str(intent),
        stage=stage,
        public=channel.is_public if public is None else public,
        agent_name=user.first_name,
        brand=workspace.name,
        network=channel.network,
        customer_handle=author.handle if channel.network != "email" else None,
        customer_name=first_name[0] if first_name else None,
        promise_hours=promise_hours(workspace),
        goodwill_offer=goodwill_offer,
    )


def active_templates(session: Session, *, workspace_id: int) -> dict[str, str]:
    """The workspace's edited templates, newest version of each, as draft names -> source."""
    newest = (select(ReplyTemplate.key, ReplyTemplate.language, func.max(ReplyTemplate.version).label("v"))
              .where(ReplyTemplate.workspace_id == workspace_id)
              .group_by(ReplyTemplate.key, ReplyTemplate.language).subquery())
    rows = session.execute(
        select(ReplyTemplate.key, ReplyTemplate.language, ReplyTemplate.source)
        .join(newest, (ReplyTemplate.key == newest.c.key) & (ReplyTemplate.language == newest.c.language)
              & (ReplyTemplate.version == newest.c.v))
        .where(ReplyTemplate.workspace_id == workspace_id)).all()
    return {f"{key}.{lang}": source for key, lang, source in rows}


def draft_for_case(session: Session, *, case: Case, user_id: int, stage: str = "first_public",
                   public: bool | None = None, goodwill_offer: str | None = None) -> Draft:
    """The playbook draft for the case at ``stage``, signed by the agent, in the customer's
    language, from the workspace's templates where the lead edited them (defaults otherwise)."""
    ctx = draft_context(session, case=case, user_id=user_id, stage=stage, public=public,
                        goodwill_offer=goodwill_offer)
    return draft(ctx, active_templates(session, workspace_id=case.workspace_id))


# -- linting and approval rules ----------------------------------------------------------------


def lint_for_case(session: Session, *, case: Case, text: str, public: bool) -> list[Finding]:
    """Lint ``text`` as a reply on this case: its customer's language, network and stage."""
    channel = session.get(Channel, case.channel_id)
    complaint = is_complaint(session, case=case)
    return lint(
        text,
        customer_lang=customer_language(session, case=case),
        public=public,
        network=channel.network if channel else None,
        first_reply=public and complaint and not has_outbound(session, case=case),
        is_complaint=complaint,
    )


def authority_limits(workspace: Workspace) -> dict[str, Decimal | None]:
    """Goodwill each role may offer alone: the defaults, overridden by the workspace's settings."""
    limits = dict(DEFAULT_AUTHORITY_LIMITS)
    for role, value in dict((workspace.settings or {}).get("authority_limits") or {}).items():
        try:
            limits[str(role)] = None if value is None else Decimal(str(value))
        except InvalidOperation:
            continue
    return limits


def authority_limit(workspace: Workspace, role: str) -> Decimal | None:
    """How much goodwill ``role`` may offer without approval (None: no limit; unknown roles: 0)."""
    limits = authority_limits(workspace)
    return limits[role] if role in limits else Decimal(0)


def in_crisis_mode(workspace: Workspace) -> bool:
    """True while the workspace is in crisis mode: every public reply then needs a lead."""
    return bool((workspace.settings or {}).get("crisis_mode"))


def parse_amount(value: str | float | Decimal | None) -> Decimal | None:
    """A goodwill amount from a form or JSON ("", None: no offer); refuses negatives and junk."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ReplyError(f"the goodwill amount {value!r} is not a number") from exc
    if not amount.is_finite() or amount < 0:
        raise ReplyError("the goodwill amount must be zero or more")
    return amount.quantize(Decimal("0.01"))


def approval_reasons(workspace: Workspace, *, role: str, findings: list[Finding], public: bool,
                     offer_amount: Decimal | None) -> list[str]:
    """Why a reply must wait for a lead (empty: it may go out now).

    A high-severity finding left in the text; goodwill above the role's authority; any public
    reply while the workspace is in crisis mode.
    """
    reasons = [f"{HIGH_FINDING}:{rule}" for rule in dict.fromkeys(f.rule for f in findings if f.severity == "high")]
    limit = authority_limit(workspace, role)
    if offer_amount is not None and limit is not None and offer_amount > limit:
        reasons.append(GOODWILL)
    if public and in_crisis_mode(workspace):
        reasons.append(CRISIS_MODE)
    return reasons


def _clean_text(text: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ReplyError("a reply cannot be empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"a reply is limited to {MAX_REPLY_CHARS:,} characters")
    return text


def _findings_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [f.as_dict() for f in findings]


def _summary(reply: Reply) -> dict[str, Any]:
    return {"reply_id": reply.id, "status": reply.status, "public": reply.public,
            "reasons": list(reply.approval_reasons or [])}


def submit_reply(session: Session, *, case: Case, text: str, actor: Principal, public: bool,
                 stage: str | None = None, offer_amount: str | float | Decimal | None = None) -> Reply:
    """Lint the reply and either queue it for the outbox or hold it for a lead's approval.

    Returns the new reply with status ``queued`` or ``needs_approval`` (``approval_reasons``
    says why). The caller commits, then hands queued replies to ``outbox.dispatch``.
    """
    if not actor.can("work_cases"):
        raise ReplyForbidden("your role cannot reply to customers")
    if case.workspace_id != actor.workspace_id:
        raise ReplyError("no such case")
    text = _clean_text(text)
    stage = stage or ("first_public" if public else "private_followup")
    if stage not in STAGES:
        raise ReplyError(f"stage must be one of {', '.join(STAGES)}")
    amount = parse_amount(offer_amount)
    workspace = _workspace(session, case.workspace_id)
    findings = lint_for_case(session, case=case, text=text, public=public)
    reasons = approval_reasons(workspace, role=actor.role.value, findings=findings, public=public,
                               offer_amount=amount)
    reply = Reply(
        workspace_id=case.workspace_id, case_id=case.id, channel_id=case.channel_id, author_id=actor.user_id,
        text=text, language=customer_language(session, case=case), public=public, stage=stage,
        status=(ReplyStatus.needs_approval if reasons else ReplyStatus.queued).value,
        findings=_findings_json(findings), approval_reasons=reasons, offer_amount=amount,
        offer_currency=str((workspace.settings or {}).get("currency") or DEFAULT_CURRENCY) if amount is not None
        else None,
        idempotency_key=f"reply-{uuid.uuid4().hex}",
    )
    session.add(reply)
    session.flush()
    record(session, actor.actor, "reply.submitted", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id,
           after={**_summary(reply), "text": text[:500], "findings": [f.rule for f in findings],
                  "offer": str(amount) if amount is not None else None})
    return reply


# -- review by a lead ------------------------------------------------------------------------


def _review_check(reply: Reply, actor: Principal) -> None:
    if not actor.can("lead"):
        raise ReplyForbidden("only a lead or an admin can review replies")
    if reply.workspace_id != actor.workspace_id:
        raise ReplyError("no such reply")
    if reply.status != ReplyStatus.needs_approval.value:
        raise ReplyError(f"this reply is {reply.status.replace('_', ' ')}, not awaiting approval")
    if reply.author_id == actor.user_id and actor.role != Role.admin:
        # Four eyes: a lead's own held reply goes to another lead (or an admin).
        raise ReplyForbidden("you cannot approve or reject your own reply; ask another lead")


def _review(session: Session, reply: Reply, actor: Principal, status: ReplyStatus, comment: str,
            action: str, before: dict[str, Any]) -> Reply:
    reply.status = status.value
    reply.reviewer_id = actor.user_id
    reply.review_comment = comment or None
    reply.reviewed_at = utcnow()
    session.flush()
    record(session, actor.actor, action, target_type="case", target_id=reply.case_id,
           workspace_id=reply.workspace_id, before=before,
           after={**_summary(reply), "comment": comment or None})
    return reply


def _comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ReplyError(f"a comment is limited to {MAX_COMMENT_CHARS:,} characters")
    return comment


def approve(session: Session, *, reply: Reply, actor: Principal, comment: str = "") -> Reply:
    """A lead approves a held reply as written; the outbox sends it next (status ``approved``)."""
    _review_check(reply, actor)
    return _review(session, reply, actor, ReplyStatus.approved, _comment(comment), "reply.approved",
                   _summary(reply))


def edit(session: Session, *, reply: Reply, actor: Principal, text: str, comment: str = "") -> Reply:
    """A lead rewrites a held reply and approves the new text (findings are recomputed and kept)."""
    _review_check(reply, actor)
    text = _clean_text(text)
    case = session.get(Case, reply.case_id)
    assert case is not None
    before = {**_summary(reply), "text": reply.text[:500]}
    reply.text = text
    reply.findings = _findings_json(lint_for_case(session, case=case, text=text, public=reply.public))
    return _review(session, reply, actor, ReplyStatus.approved, _comment(comment), "reply.edited_and_approved",
                   before)


def reject(session: Session, *, reply: Reply, actor: Principal, comment: str) -> Reply:
    """A lead refuses a held reply; it is never sent. The comment (required) tells the agent why."""
    _review_check(reply, actor)
    comment = _comment(comment)
    if not comment:
        raise ReplyError("say why the reply is rejected: the agent reads the comment")
    return _review(session, reply, actor, ReplyStatus.rejected, comment, "reply.rejected", _summary(reply))


def resend(session: Session, *, reply: Reply, actor: Principal) -> Reply:
    """Queue a failed reply again, under the same idempotency key (someone checked the network)."""
    if not actor.can("work_cases") or reply.workspace_id != actor.workspace_id:
        raise ReplyForbidden("your role cannot send replies")
    if reply.status != ReplyStatus.failed.value:
        raise ReplyError("only a failed reply can be sent again")
    before = {**_summary(reply), "error": reply.last_error}
    reply.status = ReplyStatus.queued.value
    reply.attempts = 0
    reply.next_attempt_at = None
    session.flush()
    record(session, actor.actor, "reply.requeued", target_type="case", target_id=reply.case_id,
           workspace_id=reply.workspace_id, before=before, after=_summary(reply))
    return reply


# -- reading --------------------------------------------------------------------------------


def get_reply(session: Session, *, workspace_id: int, reply_id: int) -> Reply | None:
    """The reply, if it belongs to the workspace."""
    return session.scalar(select(Reply).where(Reply.id == reply_id, Reply.workspace_id == workspace_id))


def replies_for_case(session: Session, *, case: Case) -> list[Reply]:
    """The case's replies, oldest first, whatever their status."""
    return list(session.scalars(select(Reply).where(Reply.case_id == case.id).order_by(Reply.id)))


@dataclass(slots=True)
class HeldReply:
    """A reply awaiting approval, with what the lead needs to judge it."""

    reply: Reply
    author_name: str
    case: Case


def awaiting_approval(session: Session, *, workspace_id: int) -> list[HeldReply]:
    """Replies held for a lead in the workspace, oldest first."""
    rows = session.execute(
        select(Reply, User.name, Case).join(User, User.id == Reply.author_id).join(Case, Case.id == Reply.case_id)
        .where(Reply.workspace_id == workspace_id, Reply.status == ReplyStatus.needs_approval.value)
        .order_by(Reply.id)).all()
    return [HeldReply(reply, name, case) for reply, name, case in rows]


# -- template library -------------------------------------------------------------------------


@dataclass(slots=True)
class TemplateEntry:
    """One template of the library: its active source and whether the lead edited it."""

    key: str
    language: str
    source: str
    version: int  # 0: the shipped default
    edited_by: str | None = None
    edited_at: Any = None


def _check_key(key: str, language: str) -> None:
    if key not in TEMPLATE_KEYS:
        raise ReplyError(f"no template called {key!r}; templates: {', '.join(TEMPLATE_KEYS)}")
    if language not in LANGUAGES:
        raise ReplyError(f"templates exist in {', '.join(LANGUAGES)} only")


def template_versions(session: Session, *, workspace_id: int, key: str, language: str
                      ) -> list[tuple[ReplyTemplate, str | None]]:
    """Every stored version of a template with its author's name, newest first."""
    rows = session.execute(
        select(ReplyTemplate, User.name).outerjoin(User, User.id == ReplyTemplate.created_by)
        .where(ReplyTemplate.workspace_id == workspace_id, ReplyTemplate.key == key,
               ReplyTemplate.language == language)
        .order_by(ReplyTemplate.version.desc())).all()
    return [(t, name) for t, name in rows]


def template_library(session: Session, *, workspace_id: int) -> list[TemplateEntry]:
    """Every template key in every language, with the active source (edited, or the default)."""
    entries = []
    for key in TEMPLATE_KEYS:
        for lang in LANGUAGES:
            versions = template_versions(session, workspace_id=workspace_id, key=key, language=lang)
            if versions:
                newest, name = versions[0]
                entries.append(TemplateEntry(key, lang, newest.source, newest.version, name, newest.created_at))
            else:
                entries.append(TemplateEntry(key, lang, default_template(f"{key}.{lang}"), 0))
    return entries


def sample_context(key: str, language: str, *, agent_name: str = "Ana", brand: str = "Brand") -> DraftContext:
    """A made-up case to preview a template with (no customer's data)."""
    return DraftContext(
        customer_lang=language, reason="late", intent="praise" if key == "praise" else "wants_fix",
        stage="first_public" if key == "praise" else key, public=key in ("first_public", "praise", "fixed_notice"),
        agent_name=agent_name, brand=brand, network="x", customer_handle="@cliente",
        customer_name="Maria" if language == "es" else "Mary",
        survey_url="https://example.com/survey", goodwill_offer=None, improvement_note=None,
    )


def preview_template(source: str, *, key: str, language: str, agent_name: str = "Ana",
                     brand: str = "Brand", compact: int = 0) -> str:
    """Render ``source`` in the sandbox for a sample case; raises TemplateError with a clear message."""
    _check_key(key, language)
    return render_template(source, sample_context(key, language, agent_name=agent_name, brand=brand), compact)


def save_template(session: Session, *, workspace_id: int, key: str, language: str, source: str,
                  actor: Principal) -> ReplyTemplate:
    """Store a new version of a template (leads only). A template that does not parse, uses an
    unknown variable or fails on a sample case is refused (TemplateError, message for the lead)."""
    if not actor.can("lead") or actor.workspace_id != workspace_id:
        raise ReplyForbidden("only a lead or an admin can edit templates")
    _check_key(key, language)
    source = (source or "").replace("\r\n", "\n")
    if not source.strip():
        raise TemplateError("a template cannot be empty")
    workspace = _workspace(session, workspace_id)
    for compact in (0, 1, 2):  # every variant drafts may pick must render
        preview_template(source, key=key, language=language, brand=workspace.name, compact=compact)
    current = session.scalar(select(func.max(ReplyTemplate.version)).where(
        ReplyTemplate.workspace_id == workspace_id, ReplyTemplate.key == key, ReplyTemplate.language == language))
    template = ReplyTemplate(workspace_id=workspace_id, key=key, language=language,
                             stage="first_public" if key == "praise" else key, source=source,
                             version=(current or 0) + 1, created_by=actor.user_id)
    session.add(template)
    session.flush()
    record(session, actor.actor, "reply_template.saved", target_type="reply_template",
           target_id=f"{key}.{language}", workspace_id=workspace_id,
           after={"version": template.version, "source": source[:2000]})
    return template


# -- saved replies (macros) -------------------------------------------------------------------


def saved_replies(session: Session, *, workspace_id: int, language: str | None = None) -> list[SavedReply]:
    """The workspace's saved replies (in ``language`` when given), by shortcut then title."""
    stmt = select(SavedReply).where(SavedReply.workspace_id == workspace_id)
    if language:
        stmt = stmt.where(SavedReply.language == language)
    return list(session.scalars(stmt.order_by(SavedReply.shortcut.is_(None), SavedReply.shortcut,
                                              SavedReply.title)))


def save_saved_reply(session: Session, *, workspace_id: int, title: str, body: str, language: str,
                     shortcut: int | None, actor: Principal) -> SavedReply:
    """Add a saved reply (leads only); a shortcut 1–9 taken in that language moves to the new one."""
    if not actor.can("lead") or actor.workspace_id != workspace_id:
        raise ReplyForbidden("only a lead or an admin can edit saved replies")
    title, body = (title or "").strip()[:120], _clean_text(body)
    if not title:
        raise ReplyError("a saved reply needs a title")
    if language not in LANGUAGES:
        raise ReplyError(f"saved replies exist in {', '.join(LANGUAGES)} only")
    if shortcut is not None and not 1 <= shortcut <= 9:
        raise ReplyError("the shortcut must be a key from 1 to 9")
    if shortcut is not None:
        for other in session.scalars(select(SavedReply).where(
                SavedReply.workspace_id == workspace_id, SavedReply.language == language,
                SavedReply.shortcut == shortcut)):
            other.shortcut = None
    macro = SavedReply(workspace_id=workspace_id, title=title, body=body, language=language,
                       shortcut=shortcut, created_by=actor.user_id)
    session.add(macro)
    session.flush()
    record(session, actor.actor, "saved_reply.created", target_type="saved_reply", target_id=macro.id,
           workspace_id=workspace_id, after={"title": title, "shortcut": shortcut, "language": language})
    return macro
