"""The improvement backlog: complaints' root causes turned into work, and customers told when it ships.

A lead creates an improvement from a case (its reason becomes the root cause), links more cases,
gives it an owner and moves it proposed → planned → shipped. Shipping prepares one "what you
reported is fixed" notice per linked customer, in that customer's language, for an agent to send.
Every change is audited on the improvement, and linking also on the case.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, User
from ventanilla.audit.service import Actor, record
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.followups.drafting import case_language, case_reason, prepare
from ventanilla.improvements.models import (
    Improvement,
    ImprovementCase,
    ImprovementNotice,
    ImprovementState,
    NoticeState,
)
from ventanilla.ingest.models import Author

MAX_TITLE = 200
MAX_TEXT = 10_000
# Forward steps, and one step back from planned when a plan falls through.
TRANSITIONS: dict[ImprovementState, frozenset[ImprovementState]] = {
    ImprovementState.proposed: frozenset({ImprovementState.planned}),
    ImprovementState.planned: frozenset({ImprovementState.shipped, ImprovementState.proposed}),
    ImprovementState.shipped: frozenset(),
}


class ImprovementError(ValueError):
    """An improvement request that cannot be carried out, with the reason."""


def _snapshot(improvement: Improvement) -> dict[str, object]:
    return {"title": improvement.title, "state": improvement.state, "owner_id": improvement.owner_id,
            "root_reason": improvement.root_reason}


def _check_owner(session: Session, workspace_id: int, owner_id: int | None) -> None:
    if owner_id is None:
        return
    member = session.scalar(select(Membership.id).where(
        Membership.user_id == owner_id, Membership.workspace_id == workspace_id))
    if member is None:
        raise ImprovementError("the owner must be a member of the workspace")


def _notes(note_es: str, note_en: str) -> dict[str, str]:
    return {lang: " ".join(text.split())[:MAX_TEXT] for lang, text in (("es", note_es), ("en", note_en))
            if text and text.strip()}


def create_improvement(session: Session, *, workspace_id: int, title: str, actor: Actor, description: str = "",
                       owner_id: int | None = None, from_case: Case | None = None, root_reason: str | None = None,
                       note_es: str = "", note_en: str = "") -> Improvement:
    """Add an improvement to the backlog, linked to ``from_case`` when created from a case
    (whose complaint reason becomes the root cause unless one is given)."""
    title = " ".join((title or "").split())
    if not title:
        raise ImprovementError("an improvement needs a title")
    if len(title) > MAX_TITLE:
        raise ImprovementError(f"a title is limited to {MAX_TITLE} characters")
    if from_case is not None and from_case.workspace_id != workspace_id:
        raise ImprovementError("no such case")
    _check_owner(session, workspace_id, owner_id)
    if root_reason is None and from_case is not None:
        root_reason = case_reason(session, case=from_case)
    improvement = Improvement(
        workspace_id=workspace_id, title=title, description=(description or "").strip()[:MAX_TEXT],
        owner_id=owner_id, root_reason=root_reason, state=ImprovementState.proposed.value,
        customer_note=_notes(note_es, note_en), created_by=actor.user_id)
    session.add(improvement)
    session.flush()
    record(session, actor, "improvement.created", target_type="improvement", target_id=improvement.id,
           workspace_id=workspace_id,
           after={**_snapshot(improvement), "from_case": from_case.id if from_case else None})
    if from_case is not None:
        link_case(session, improvement=improvement, case=from_case, actor=actor)
    return improvement


def get_improvement(session: Session, *, workspace_id: int, improvement_id: int) -> Improvement | None:
    """The improvement, if it belongs to the workspace."""
    return session.scalar(select(Improvement).where(
        Improvement.id == improvement_id, Improvement.workspace_id == workspace_id))


def update_improvement(session: Session, *, improvement: Improvement, actor: Actor, title: str | None = None,
                       description: str | None = None, owner_id: int | str | None = "keep",
                       note_es: str | None = None, note_en: str | None = None) -> Improvement:
    """Change the title, description, owner (None: nobody) or the note customers will read."""
    before = {**_snapshot(improvement), "customer_note": dict(improvement.customer_note or {})}
    if title is not None:
        title = " ".join(title.split())
        if not title or len(title) > MAX_TITLE:
            raise ImprovementError(f"a title needs 1 to {MAX_TITLE} characters")
        improvement.title = title
    if description is not None:
        improvement.description = description.strip()[:MAX_TEXT]
    if owner_id != "keep":
        new_owner = owner_id if isinstance(owner_id, int) else None
        _check_owner(session, improvement.workspace_id, new_owner)
        improvement.owner_id = new_owner
    if note_es is not None or note_en is not None:
        notes = dict(improvement.customer_note or {})
        for lang, text in (("es", note_es), ("en", note_en)):
            if text is not None:
                notes.pop(lang, None)
                notes.update(_notes(text, "") if lang == "es" else _notes("", text))
        improvement.customer_note = notes
    session.flush()
    record(session, actor, "improvement.updated", target_type="improvement", target_id=improvement.id,
           workspace_id=improvement.workspace_id, before=before,
           after={**_snapshot(improvement), "customer_note": dict(improvement.customer_note or {})})
    return improvement


def link_case(session: Session, *, improvement: Improvement, case: Case, actor: Actor) -> ImprovementCase:
    """Link a case to the improvement (idempotent). Linking to a shipped one prepares its notice at once."""
    if case.workspace_id != improvement.workspace_id:
        raise ImprovementError("no such case")
    link = session.scalar(select(ImprovementCase).where(
        ImprovementCase.improvement_id == improvement.id, ImprovementCase.case_id == case.id))
    if link is not None:
        return link
    link = ImprovementCase(improvement_id=improvement.id, case_id=case.id, linked_by=actor.user_id)
    session.add(link)
    session.flush()
    after = {"improvement_id": improvement.id, "case_id": case.id, "title": improvement.title}
    record(session, actor, "improvement.case_linked", target_type="improvement", target_id=improvement.id,
           workspace_id=improvement.workspace_id, after=after)
    record(session, actor, "improvement.case_linked", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, after=after)
    if improvement.state == ImprovementState.shipped.value:
        prepare_notices(session, improvement=improvement, actor=actor)
    return link


def unlink_case(session: Session, *, improvement: Improvement, case: Case, actor: Actor) -> None:
    """Remove a wrongly linked case (a notice already prepared for it stays, as a record)."""
    link = session.scalar(select(ImprovementCase).where(
        ImprovementCase.improvement_id == improvement.id, ImprovementCase.case_id == case.id))
    if link is None:
        return
    session.delete(link)
    session.flush()
    before = {"improvement_id": improvement.id, "case_id": case.id}
    record(session, actor, "improvement.case_unlinked", target_type="improvement", target_id=improvement.id,
           workspace_id=improvement.workspace_id, before=before)
    record(session, actor, "improvement.case_unlinked", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, before=before)


def set_state(session: Session, *, improvement: Improvement, state: ImprovementState, actor: Actor) -> Improvement:
    """Move the improvement along proposed → planned → shipped; shipping prepares the notices."""
    current = ImprovementState(improvement.state)
    if state == current:
        return improvement
    if state not in TRANSITIONS[current]:
        raise ImprovementError(f"a {current.value} improvement cannot become {state.value}")
    before = _snapshot(improvement)
    improvement.state = state.value
    now = utcnow()
    if state == ImprovementState.planned:
        improvement.planned_at = now
    if state == ImprovementState.shipped:
        improvement.shipped_at = now
    session.flush()
    record(session, actor, "improvement.state_changed", target_type="improvement", target_id=improvement.id,
           workspace_id=improvement.workspace_id, before=before, after=_snapshot(improvement))
    if state == ImprovementState.shipped:
        prepare_notices(session, improvement=improvement, actor=actor)
    return improvement


def prepare_notices(session: Session, *, improvement: Improvement, actor: Actor) -> list[ImprovementNotice]:
    """One "what you reported is fixed" draft per linked customer (on their newest linked case),
    in their language, from the playbook's ``fixed_notice`` template. Idempotent."""
    cases = list(session.scalars(
        select(Case).join(ImprovementCase, ImprovementCase.case_id == Case.id)
        .where(ImprovementCase.improvement_id == improvement.id)
        .order_by(Case.opened_at.desc(), Case.id.desc())))
    noticed_authors = set(session.scalars(
        select(Case.author_id).join(ImprovementNotice, ImprovementNotice.case_id == Case.id)
        .where(ImprovementNotice.improvement_id == improvement.id)))
    created: list[ImprovementNotice] = []
    for case in cases:
        if case.author_id in noticed_authors:
            continue
        noticed_authors.add(case.author_id)
        note = dict(improvement.customer_note or {}).get(case_language(session, case=case))
        message = prepare(session, case=case, stage="fixed_notice", signer_id=case.assignee_id or improvement.owner_id,
                          improvement_note=note)
        notice = ImprovementNotice(improvement_id=improvement.id, case_id=case.id, language=message.language,
                                   text=message.text, state=NoticeState.draft.value)
        session.add(notice)
        session.flush()
        created.append(notice)
        record(session, actor, "improvement.notice_prepared", target_type="case", target_id=case.id,
               workspace_id=case.workspace_id,
               after={"improvement_id": improvement.id, "notice_id": notice.id, "language": message.language})
    return created


def mark_notice_sent(session: Session, *, notice: ImprovementNotice, actor: Actor) -> ImprovementNotice:
    """An agent says they sent the notice to the customer."""
    if notice.state == NoticeState.sent.value:
        raise ImprovementError("this notice was already sent")
    notice.state = NoticeState.sent.value
    notice.sent_at = utcnow()
    notice.sent_by = actor.user_id
    session.flush()
    workspace_id = session.scalar(select(Case.workspace_id).where(Case.id == notice.case_id))
    record(session, actor, "improvement.notice_sent", target_type="case", target_id=notice.case_id,
           workspace_id=workspace_id, after={"improvement_id": notice.improvement_id, "notice_id": notice.id})
    return notice


@dataclass(frozen=True, slots=True)
class BacklogRow:
    improvement: Improvement
    owner_name: str | None
    cases: int
    notices_pending: int


def backlog(session: Session, *, workspace_id: int, state: str | None = None) -> list[BacklogRow]:
    """The workspace's improvements with their owner, linked-case count and notices still to send."""
    case_counts = (select(ImprovementCase.improvement_id, func.count().label("n"))
                   .group_by(ImprovementCase.improvement_id).subquery())
    pending = (select(ImprovementNotice.improvement_id, func.count().label("n"))
               .where(ImprovementNotice.state == NoticeState.draft.value)
               .group_by(ImprovementNotice.improvement_id).subquery())
    stmt = (select(Improvement, User.name, case_counts.c.n, pending.c.n)
            .outerjoin(User, User.id == Improvement.owner_id)
            .outerjoin(case_counts, case_counts.c.improvement_id == Improvement.id)
            .outerjoin(pending, pending.c.improvement_id == Improvement.id)
            .where(Improvement.workspace_id == workspace_id)
            .order_by(Improvement.created_at.desc(), Improvement.id.desc()))
    if state:
        stmt = stmt.where(Improvement.state == state)
    return [BacklogRow(i, name, int(n or 0), int(p or 0)) for i, name, n, p in session.execute(stmt).all()]


@dataclass(frozen=True, slots=True)
class LinkedCase:
    case: Case
    handle: str
    notice: ImprovementNotice | None


def linked_cases(session: Session, *, improvement: Improvement) -> list[LinkedCase]:
    """The improvement's cases, newest first, with the author's handle and the notice prepared for it."""
    rows = session.execute(
        select(Case, Author.handle, ImprovementNotice)
        .join(ImprovementCase, ImprovementCase.case_id == Case.id)
        .join(Author, Author.id == Case.author_id)
        .outerjoin(ImprovementNotice, (ImprovementNotice.case_id == Case.id)
                   & (ImprovementNotice.improvement_id == improvement.id))
        .where(ImprovementCase.improvement_id == improvement.id)
        .order_by(Case.opened_at.desc(), Case.id.desc())).all()
    return [LinkedCase(c, h, n) for c, h, n in rows]


def for_case(session: Session, *, case: Case) -> list[tuple[Improvement, ImprovementNotice | None]]:
    """The improvements a case is linked to, with the notice prepared for it, if any."""
    rows = session.execute(
        select(Improvement, ImprovementNotice)
        .join(ImprovementCase, ImprovementCase.improvement_id == Improvement.id)
        .outerjoin(ImprovementNotice, (ImprovementNotice.improvement_id == Improvement.id)
                   & (ImprovementNotice.case_id == case.id))
        .where(ImprovementCase.case_id == case.id).order_by(Improvement.id)).all()
    return [(i, n) for i, n in rows]


def open_improvements(session: Session, *, workspace_id: int) -> list[Improvement]:
    """Improvements a case can still be linked to (any state: late cases get a notice at once)."""
    return list(session.scalars(select(Improvement).where(Improvement.workspace_id == workspace_id)
                                .order_by(Improvement.id.desc()).limit(200)))
