"""Transparency guardrails: "do not engage" on a troll's case, and folding spam away in our inbox.

Neither ever deletes a post nor hides anything on the network. A "do not engage" case keeps all
its posts stored, shown and counted; it only records, with a reason, that we decided not to
answer. Spam may be folded away in OUR inbox only, with a reason, once a lead approves. Every
decision is written to the audit trail on the case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from ventanilla.accounts.models import Membership, Role
from ventanilla.audit.service import Actor, record
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.ingest.models import Post
from ventanilla.privacy.models import CaseGuardrail, PostVisibility, VisibilityState

MAX_REASON = 2_000
# Roles whose approval lets spam be folded away in the inbox.
APPROVER_ROLES = (Role.lead.value, Role.admin.value)


class GuardrailError(ValueError):
    """A guardrail request that cannot be carried out, with the reason."""


class GuardrailForbidden(GuardrailError):
    """The actor's role may not take this decision (approving needs a lead)."""


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise GuardrailError("a reason is required")
    if len(reason) > MAX_REASON:
        raise GuardrailError(f"a reason is limited to {MAX_REASON:,} characters")
    return reason


def role_of(session: Session, *, actor: Actor, workspace_id: int) -> str | None:
    """The actor's role in the workspace (None for the system or a non-member)."""
    if actor.user_id is None:
        return None
    return session.scalar(select(Membership.role).where(
        Membership.user_id == actor.user_id, Membership.workspace_id == workspace_id))


def guardrail_for(session: Session, *, case: Case) -> CaseGuardrail | None:
    """The case's guardrail row, if anyone ever set one."""
    return session.scalar(select(CaseGuardrail).where(CaseGuardrail.case_id == case.id))


def is_do_not_engage(session: Session, *, case: Case) -> bool:
    """True while the case is marked "do not engage"."""
    guardrail = guardrail_for(session, case=case)
    return bool(guardrail and guardrail.do_not_engage)


def set_do_not_engage(session: Session, *, case: Case, reason: str, actor: Actor,
                      engage: bool = False) -> CaseGuardrail:
    """Mark the case "do not engage" (``engage=True`` lifts it), with a required reason.

    The case's posts are not touched: they stay in the conversation, the inbox and the reports.
    """
    reason = _reason(reason)
    guardrail = guardrail_for(session, case=case)
    before = ({"do_not_engage": guardrail.do_not_engage, "reason": guardrail.reason}
              if guardrail else {"do_not_engage": False})
    if guardrail is None:
        guardrail = CaseGuardrail(workspace_id=case.workspace_id, case_id=case.id)
        session.add(guardrail)
    guardrail.do_not_engage = not engage
    guardrail.reason = reason
    guardrail.set_by = actor.user_id
    guardrail.set_at = utcnow()
    session.flush()
    record(session, actor, "case.do_not_engage_set" if not engage else "case.do_not_engage_lifted",
           target_type="case", target_id=case.id, workspace_id=case.workspace_id,
           before=before, after={"do_not_engage": guardrail.do_not_engage, "reason": reason})
    return guardrail


def _post_case(session: Session, post: Post) -> Case | None:
    return session.get(Case, post.case_id) if post.case_id is not None else None


def _record_on_case(session: Session, actor: Actor, action: str, post: Post,
                    before: dict[str, object] | None, after: dict[str, object]) -> None:
    # Recorded on the case when the post has one, so the decision shows in the case's timeline.
    target_type, target_id = ("case", str(post.case_id)) if post.case_id is not None else ("post", str(post.id))
    record(session, actor, action, target_type=target_type, target_id=target_id,
           workspace_id=post.workspace_id, before=before, after={"post_id": post.id, **after})


def visibility_for(session: Session, *, post: Post) -> PostVisibility | None:
    """The post's hide request, if there is one."""
    return session.scalar(select(PostVisibility).where(PostVisibility.post_id == post.id))


def request_hide_spam(session: Session, *, post: Post, reason: str, actor: Actor) -> PostVisibility:
    """Ask a lead to fold a spam post away in our inbox. The post stays stored and on the network."""
    reason = _reason(reason)
    if post.direction != "in":
        raise GuardrailError("only a post someone sent us can be marked as spam")
    visibility = visibility_for(session, post=post)
    if visibility is not None and visibility.state != VisibilityState.rejected.value:
        raise GuardrailError(f"this post already has a {visibility.state} hide request")
    before: dict[str, object] | None = (
        {"state": visibility.state, "reason": visibility.reason} if visibility else None)
    if visibility is None:
        visibility = PostVisibility(workspace_id=post.workspace_id, post_id=post.id, reason=reason)
        session.add(visibility)
    visibility.reason = reason
    visibility.hidden = False
    visibility.state = VisibilityState.requested.value
    visibility.requested_by = actor.user_id
    visibility.requested_at = utcnow()
    visibility.approved_by = None
    visibility.decided_at = None
    visibility.decision_note = None
    session.flush()
    _record_on_case(session, actor, "post.hide_requested", post, before,
                    {"state": visibility.state, "reason": reason})
    return visibility


def _decide(session: Session, *, post: Post, actor: Actor, approve: bool, note: str) -> PostVisibility:
    if role_of(session, actor=actor, workspace_id=post.workspace_id) not in APPROVER_ROLES:
        raise GuardrailForbidden("only a lead can decide on hiding a post")
    visibility = visibility_for(session, post=post)
    if visibility is None or visibility.state != VisibilityState.requested.value:
        raise GuardrailError("there is no pending hide request on this post")
    before = {"state": visibility.state, "hidden": visibility.hidden}
    visibility.state = (VisibilityState.approved if approve else VisibilityState.rejected).value
    visibility.hidden = approve
    visibility.approved_by = actor.user_id
    visibility.decided_at = utcnow()
    visibility.decision_note = " ".join(note.split())[:MAX_REASON] or None
    session.flush()
    _record_on_case(session, actor, "post.hide_approved" if approve else "post.hide_rejected", post, before,
                    {"state": visibility.state, "hidden": visibility.hidden, "reason": visibility.reason,
                     "note": visibility.decision_note})
    return visibility


def approve_hide(session: Session, *, post: Post, lead: Actor, note: str = "") -> PostVisibility:
    """A lead approves folding the spam post away in our inbox (never on the network)."""
    return _decide(session, post=post, actor=lead, approve=True, note=note)


def reject_hide(session: Session, *, post: Post, lead: Actor, note: str = "") -> PostVisibility:
    """A lead refuses the hide request: the post stays shown as any other."""
    return _decide(session, post=post, actor=lead, approve=False, note=note)


@dataclass(frozen=True, slots=True)
class PostGuard:
    """A post's hide state as the case page shows it."""

    post_id: int
    state: str
    hidden: bool
    reason: str


def post_guards(session: Session, *, case: Case) -> dict[int, PostGuard]:
    """The hide requests on the case's posts, by post id."""
    rows = session.execute(
        select(PostVisibility).join(Post, Post.id == PostVisibility.post_id).where(Post.case_id == case.id)
    ).scalars()
    return {v.post_id: PostGuard(v.post_id, v.state, v.hidden, v.reason) for v in rows}


def hidden_post_ids(session: Session, *, workspace_id: int) -> set[int]:
    """Posts a lead agreed to fold away in the workspace's inbox (they are still stored and counted)."""
    return set(session.scalars(select(PostVisibility.post_id).where(
        PostVisibility.workspace_id == workspace_id, PostVisibility.hidden.is_(True))))


def hidden_reasons(session: Session, *, post_ids: list[int]) -> dict[int, str]:
    """For the given posts, the ones folded away as spam, with the reason a lead approved."""
    if not post_ids:
        return {}
    rows = session.execute(select(PostVisibility.post_id, PostVisibility.reason).where(
        PostVisibility.post_id.in_(post_ids), PostVisibility.hidden.is_(True))).all()
    return {int(r[0]): str(r[1] or "") for r in rows}


def pending_hide_requests(session: Session, *, workspace_id: int) -> list[PostVisibility]:
    """Hide requests waiting for a lead, oldest first."""
    return list(session.scalars(select(PostVisibility).where(
        PostVisibility.workspace_id == workspace_id,
        PostVisibility.state == VisibilityState.requested.value).order_by(PostVisibility.id)))


def hidden_spam_case_ids(session: Session, *, workspace_id: int) -> set[int]:
    """The workspace's cases whose every customer post is spam a lead agreed to fold away.

    The inbox leaves these out by default (and lists them alone on request). Our own replies on
    such a case do not bring it back; a new post from the customer does. One query over the hidden
    posts (which are few), with the rest as scalar subqueries in its select list, which no planner
    turns into a scan of every post: each hidden post's case (by primary key) and whether that
    case has an inbound post still shown (the post index by case, first match only).
    """
    hidden_post = aliased(Post, name="hidden_post")
    case_post = aliased(Post, name="case_post")
    case_post_hide = aliased(PostVisibility, name="case_post_visibility")
    case_of = (select(hidden_post.case_id).where(hidden_post.id == PostVisibility.post_id)
               .correlate(PostVisibility).scalar_subquery())
    shown = (select(case_post.id)
             .outerjoin(case_post_hide, and_(case_post_hide.post_id == case_post.id,
                                             case_post_hide.hidden.is_(True)))
             .where(case_post.case_id == case_of, case_post.direction == "in", case_post_hide.id.is_(None))
             .correlate(PostVisibility).limit(1).scalar_subquery())
    rows = session.execute(select(case_of, shown).where(PostVisibility.workspace_id == workspace_id,
                                                        PostVisibility.hidden.is_(True))).all()
    return {case_id for case_id, shown_post in rows if case_id is not None and shown_post is None}
