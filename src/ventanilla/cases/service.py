"""Cases: opening them from posts, and every change an agent makes (each one audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ventanilla.accounts.models import Membership, User
from ventanilla.audit.service import SYSTEM, Actor, EventDraft, events_for, record, record_many
from ventanilla.cases.models import OPEN_STATUSES, Case, CaseStatus, Note
from ventanilla.cases.search import case_matches
from ventanilla.db import utcnow
from ventanilla.events import publish
from ventanilla.ingest.models import Author, Channel, Post

# Which status may follow which; "closed" is final except through an explicit reopen.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.new: frozenset({CaseStatus.open, CaseStatus.waiting, CaseStatus.resolved}),
    CaseStatus.open: frozenset({CaseStatus.waiting, CaseStatus.resolved}),
    CaseStatus.waiting: frozenset({CaseStatus.open, CaseStatus.resolved}),
    CaseStatus.resolved: frozenset({CaseStatus.open, CaseStatus.closed}),
    CaseStatus.closed: frozenset({CaseStatus.open}),
}
OPEN_VALUES = tuple(s.value for s in OPEN_STATUSES)


class CaseError(ValueError):
    """A case change that is not allowed, with the reason."""


class CaseConflict(CaseError):
    """Someone else changed the case first; ``holder`` says who has it now."""

    def __init__(self, message: str, holder: str | None = None):
        super().__init__(message)
        self.holder = holder


def attach_posts(session: Session, post_ids: Sequence[int]) -> dict[int, int]:
    """Put each new inbound post in a case: its author's open case on the same channel or
    thread, or a new one. Idempotent: posts that already have a case are left alone.
    Returns post id -> case id for the posts it placed."""
    if not post_ids:
        return {}
    posts = session.execute(
        select(Post.id, Post.workspace_id, Post.author_id, Post.channel_id, Post.thread_external_id,
               Post.text, Post.language, Post.created_at, Post.labels)
        .where(Post.id.in_(post_ids), Post.case_id.is_(None), Post.direction == "in")
        .order_by(Post.created_at, Post.id)
    ).all()
    if not posts:
        return {}
    author_ids = list({p.author_id for p in posts})
    open_cases: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(author_ids), 500):
        rows = session.execute(
            select(Case.id, Case.author_id, Case.channel_id, Case.thread_key, Case.post_count,
                   Case.last_activity_at, Case.priority)
            .where(Case.author_id.in_(author_ids[start:start + 500]), Case.status.in_(OPEN_VALUES))
            .order_by(Case.last_activity_at.desc())
        ).all()
        for r in rows:
            open_cases.setdefault(r.author_id, []).append(
                {"id": r.id, "channel_id": r.channel_id, "thread_key": r.thread_key,
                 "added": 0, "last": r.last_activity_at, "priority": r.priority, "new": False})
    new_cases: list[dict[str, Any]] = []
    placement: list[tuple[int, dict[str, Any]]] = []
    for post in posts:
        candidates = open_cases.setdefault(post.author_id, [])
        match = next((c for c in candidates if c["channel_id"] == post.channel_id
                      or (post.thread_external_id and c["thread_key"] == post.thread_external_id)), None)
        priority = int((post.labels or {}).get("priority", 3))
        if match is None:
            match = {"id": None, "channel_id": post.channel_id, "thread_key": post.thread_external_id,
                     "added": 0, "last": post.created_at, "priority": priority, "new": True,
                     "origin": post.id,
                     "row": {"workspace_id": post.workspace_id, "author_id": post.author_id,
                             "channel_id": post.channel_id, "thread_key": post.thread_external_id,
                             "status": CaseStatus.new.value, "priority": priority,
                             "language": post.language, "subject": post.text[:280],
                             "opened_at": post.created_at, "last_activity_at": post.created_at,
                             "post_count": 0, "version": 1}}
            candidates.insert(0, match)
            new_cases.append(match)
        match["added"] += 1
        match["last"] = max(match["last"], post.created_at)
        match["priority"] = min(match["priority"], priority)
        placement.append((post.id, match))
    case_table = cast(Table, Case.__table__)
    if new_cases:
        for c in new_cases:
            c["row"]["post_count"] = c["added"]
            c["row"]["last_activity_at"] = c["last"]
            c["row"]["priority"] = c["priority"]
            c["row"]["origin_post_id"] = c["origin"]
        session.execute(case_table.insert(), [c["row"] for c in new_cases])
        by_origin: dict[int, int] = {}
        origins = [c["origin"] for c in new_cases]
        for start in range(0, len(origins), 500):
            by_origin.update((int(r[0] or 0), r[1]) for r in session.execute(
                select(Case.origin_post_id, Case.id).where(Case.origin_post_id.in_(origins[start:start + 500]))
            ).all())
        for c in new_cases:
            c["id"] = by_origin[c["origin"]]
    existing = [c for cs in open_cases.values() for c in cs if not c["new"] and c["added"]]
    if existing:
        session.execute(
            update(case_table).where(case_table.c.id == bindparam("cid")).values(
                post_count=case_table.c.post_count + bindparam("added"),
                last_activity_at=bindparam("last"), priority=bindparam("prio"),
                version=case_table.c.version + 1),
            [{"cid": c["id"], "added": c["added"], "last": c["last"], "prio": c["priority"]} for c in existing],
        )
    post_table = cast(Table, Post.__table__)
    session.execute(update(post_table).where(post_table.c.id == bindparam("pid")).values(case_id=bindparam("cid")),
                    [{"pid": pid, "cid": c["id"]} for pid, c in placement])
    workspace_id = posts[0].workspace_id
    drafts = [EventDraft("case.opened", "case", str(c["id"]), workspace_id,
                         after={"status": "new", "priority": c["priority"]}) for c in new_cases]
    drafts += [EventDraft("case.post_added", "case", str(c["id"]), workspace_id,
                          after={"post_id": pid}) for pid, c in placement if not c["new"]]
    record_many(session, SYSTEM, drafts)
    if new_cases:
        publish(session, "case.opened", case_ids=[c["id"] for c in new_cases])
    if existing:
        publish(session, "case.post_added", case_ids=[c["id"] for c in existing])
    return {pid: c["id"] for pid, c in placement}


@dataclass(slots=True)
class InboxFilter:
    """What the inbox shows; every field is optional."""

    status: str | None = "active"
    channel_id: int | None = None
    language: str | None = None
    priority: int | None = None
    assignee: str | None = None  # "me", "none", or a user id
    q: str | None = None
    label: dict[str, str] = field(default_factory=dict)
    sort: str = "priority"
    page: int = 1
    per_page: int = 50


@dataclass(slots=True)
class InboxRow:
    case: Case
    author: Author
    channel: Channel
    assignee_name: str | None
    last_text: str


@dataclass(slots=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SORTS = {
    "priority": (Case.priority.asc(), Case.last_activity_at.desc()),
    "newest": (Case.last_activity_at.desc(),),
    "oldest": (Case.last_activity_at.asc(),),
}


def inbox(session: Session, *, workspace_id: int, user_id: int, filters: InboxFilter) -> InboxPage:
    """One page of cases for the inbox, with the newest post of each."""
    conditions: list[Any] = [Case.workspace_id == workspace_id]
    if filters.status == "active":
        conditions.append(Case.status.in_(OPEN_VALUES))
    elif filters.status:
        conditions.append(Case.status == filters.status)
    if filters.channel_id:
        conditions.append(Case.channel_id == filters.channel_id)
    if filters.language:
        conditions.append(Case.language == filters.language)
    if filters.priority:
        conditions.append(Case.priority == filters.priority)
    if filters.assignee == "me":
        conditions.append(Case.assignee_id == user_id)
    elif filters.assignee == "none":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee and filters.assignee.isdigit():
        conditions.append(Case.assignee_id == int(filters.assignee))
    if filters.q and filters.q.strip():
        conditions.append(case_matches(session, workspace_id=workspace_id, query=filters.q))
    for name, value in filters.label.items():
        conditions.append(Case.id.in_(
            select(Post.case_id).where(Post.workspace_id == workspace_id,
                                       Post.labels[name].as_string() == value)))
    where = and_(*conditions)
    total = session.scalar(select(func.count()).select_from(Case).where(where)) or 0
    per_page = max(1, min(filters.per_page, 200))
    page = max(1, filters.page)
    # Order and page on the case table alone (an index walk), then join the few rows shown.
    page_ids = list(session.scalars(
        select(Case.id).where(where).order_by(*SORTS.get(filters.sort, SORTS["priority"]), Case.id.desc())
        .limit(per_page).offset((page - 1) * per_page)))
    position = {cid: i for i, cid in enumerate(page_ids)}
    rows = sorted(session.execute(
        select(Case, Author, Channel, User.name)
        .join(Author, Author.id == Case.author_id)
        .join(Channel, Channel.id == Case.channel_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .where(Case.id.in_(page_ids))
    ).all(), key=lambda r: position[r[0].id])
    case_ids = [r[0].id for r in rows]
    last_text: dict[int, str] = {}
    if case_ids:
        newest = (select(Post.case_id, func.max(Post.id).label("pid"))
                  .where(Post.case_id.in_(case_ids)).group_by(Post.case_id).subquery())
        for cid, text in session.execute(
            select(Post.case_id, Post.text).join(newest, Post.id == newest.c.pid)
        ).all():
            if cid is not None:
                last_text[cid] = text[:400]
    return InboxPage(
        [InboxRow(c, a, ch, name, last_text.get(c.id, c.subject)) for c, a, ch, name in rows],
        total, page, per_page,
    )


def get_case(session: Session, *, workspace_id: int, case_id: int) -> Case | None:
    """The case, if it belongs to the workspace."""
    return session.scalar(select(Case).where(Case.id == case_id, Case.workspace_id == workspace_id))


def conversation(session: Session, *, case: Case) -> list[Post]:
    """The case's posts, inbound and ours, oldest first."""
    return list(session.scalars(select(Post).where(Post.case_id == case.id)
                                .order_by(Post.created_at, Post.id)))


def author_history(session: Session, *, case: Case, limit: int = 20) -> list[Case]:
    """The author's other cases, newest first."""
    return list(session.scalars(
        select(Case).where(Case.author_id == case.author_id, Case.id != case.id)
        .order_by(Case.opened_at.desc()).limit(limit)))


@dataclass(slots=True)
class TimelineEntry:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]


def timeline(session: Session, *, case: Case) -> list[TimelineEntry]:
    """Every recorded step on the case (from the audit trail) with who and when."""
    return [TimelineEntry(e.created_at, e.actor, e.action, {"before": e.before, "after": e.after})
            for e in events_for(session, target_type="case", target_ids=[str(case.id)])]


def _snapshot(case: Case) -> dict[str, Any]:
    return {"status": case.status, "assignee_id": case.assignee_id, "priority": case.priority}


def assign(session: Session, *, case: Case, assignee_id: int | None, actor: Actor,
           expected_version: int | None = None) -> Case:
    """Assign the case (None: unassign). ``expected_version`` guards against a lost update:
    when the case changed since the caller saw it, CaseConflict names who holds it now."""
    if assignee_id is not None:
        member = session.scalar(select(Membership).where(
            Membership.user_id == assignee_id, Membership.workspace_id == case.workspace_id))
        if member is None or member.role not in ("admin", "lead", "agent"):
            raise CaseError("that user cannot be assigned cases in this workspace")
    before = _snapshot(case)
    version = expected_version if expected_version is not None else case.version
    result = session.execute(
        update(Case).where(Case.id == case.id, Case.version == version)
        .values(assignee_id=assignee_id, version=Case.version + 1,
                status=CaseStatus.open.value if case.status == CaseStatus.new.value else case.status)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        fresh = session.get(Case, case.id, populate_existing=True)
        holder = None
        if fresh is not None and fresh.assignee_id:
            user = session.get(User, fresh.assignee_id)
            holder = user.name if user else None
        raise CaseConflict("the case was changed by someone else first", holder)
    session.refresh(case)
    record(session, actor, "case.assigned", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, before=before, after=_snapshot(case))
    publish(session, "case.assigned", case_id=case.id, assignee_id=assignee_id, actor=actor)
    return case


def set_status(session: Session, *, case: Case, status: CaseStatus, actor: Actor) -> Case:
    """Move the case to ``status`` if the workflow allows it."""
    current = CaseStatus(case.status)
    if status == current:
        return case
    if status not in TRANSITIONS[current]:
        raise CaseError(f"a {current.value} case cannot become {status.value}")
    before = _snapshot(case)
    now = utcnow()
    case.status = status.value
    if status == CaseStatus.resolved:
        case.resolved_at = now
    if status == CaseStatus.closed:
        case.closed_at = now
    if status == CaseStatus.open and current in (CaseStatus.resolved, CaseStatus.closed):
        case.resolved_at = None
        case.closed_at = None
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise CaseConflict("the case was changed by someone else first") from exc
    record(session, actor, "case.status_changed", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, before=before, after=_snapshot(case))
    publish(session, "case.status_changed", case_id=case.id, before=current.value, after=status.value, actor=actor)
    return case


MAX_NOTE = 20_000


def add_note(session: Session, *, case: Case, user_id: int, body: str, actor: Actor) -> Note:
    """Add an internal note to the case."""
    body = body.strip()
    if not body:
        raise CaseError("a note cannot be empty")
    if len(body) > MAX_NOTE:
        raise CaseError(f"a note is limited to {MAX_NOTE:,} characters")
    note = Note(case_id=case.id, user_id=user_id, body=body)
    session.add(note)
    session.flush()
    record(session, actor, "case.note_added", target_type="case", target_id=case.id,
           workspace_id=case.workspace_id, after={"note_id": note.id, "body": body[:500]})
    return note


def notes(session: Session, *, case: Case) -> list[tuple[Note, str]]:
    """The case's notes with their authors' names, oldest first."""
    rows = session.execute(select(Note, User.name).join(User, User.id == Note.user_id)
                           .where(Note.case_id == case.id).order_by(Note.id)).all()
    return [(n, name) for n, name in rows]
