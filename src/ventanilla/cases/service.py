"""Cases: opening them from posts, and every change an agent makes (each one audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, false, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ventanilla.accounts.models import Membership, User
from ventanilla.audit.service import SYSTEM, Actor, EventDraft, events_for, record, record_many
from ventanilla.bulk import bulk_insert, one_of, refresh_statistics, reserve_ids
from ventanilla.cases.guardrails import hidden_spam_case_ids
from ventanilla.cases.models import OPEN_STATUSES, Case, CaseStatus, Note
from ventanilla.cases.search import case_matches
from ventanilla.db import utcnow
from ventanilla.events import publish
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.ingest.pending import PendingPost, load_pending

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


@dataclass(slots=True)
class Placement:
    """Where `place_posts` put each post, and the cases it opened or extended (to announce)."""

    case_of: dict[int, int] = field(default_factory=dict)
    opened: list[int] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)


def _open_cases(session: Session, author_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(author_ids), 500):
        rows = session.execute(
            select(Case.id, Case.author_id, Case.channel_id, Case.thread_key, Case.last_activity_at, Case.priority)
            .where(one_of(session, Case.author_id, author_ids[start:start + 500]), Case.status.in_(OPEN_VALUES))
            .order_by(Case.last_activity_at.desc())
        ).all()
        for r in rows:
            found.setdefault(r.author_id, []).append(
                {"id": r.id, "channel_id": r.channel_id, "thread_key": r.thread_key,
                 "added": 0, "last": r.last_activity_at, "priority": r.priority, "new": False})
    return found


CASE_COLUMNS = ("id", "workspace_id", "author_id", "channel_id", "thread_key", "origin_post_id", "status",
                "priority", "language", "subject", "opened_at", "last_activity_at", "post_count", "version")


def place_posts(session: Session, posts: Sequence[PendingPost]) -> Placement:
    """Decide each post's case (its author's open case on the same channel or thread, or a new
    one), set ``case_id`` on the posts, write the cases and their audit events. The posts
    themselves are not written here; call `announce` once they are."""
    placement = Placement()
    posts = [p for p in posts if p.case_id is None]
    if not posts:
        return placement
    open_cases = _open_cases(session, list({p.author_id for p in posts}))
    new_cases: list[dict[str, Any]] = []
    placed: list[tuple[PendingPost, dict[str, Any]]] = []
    for post in posts:
        candidates = open_cases.setdefault(post.author_id, [])
        match = next((c for c in candidates if c["channel_id"] == post.channel_id
                      or (post.thread_external_id and c["thread_key"] == post.thread_external_id)), None)
        priority = post.priority
        if match is None:
            match = {"id": None, "channel_id": post.channel_id, "thread_key": post.thread_external_id,
                     "added": 0, "last": post.created_at, "priority": priority, "new": True, "origin": post}
            candidates.insert(0, match)
            new_cases.append(match)
        match["added"] += 1
        match["last"] = max(match["last"], post.created_at)
        match["priority"] = min(match["priority"], priority)
        placed.append((post, match))
    case_table = cast(Table, Case.__table__)
    for case, case_id in zip(new_cases, reserve_ids(session, case_table, len(new_cases)), strict=True):
        case["id"] = case_id
    bulk_insert(session, case_table, CASE_COLUMNS, [
        (c["id"], o.workspace_id, o.author_id, o.channel_id, o.thread_external_id, o.id, CaseStatus.new.value,
         c["priority"], o.language, o.text[:280], o.created_at, c["last"], c["added"], 1)
        for c in new_cases for o in (c["origin"],)])
    refresh_statistics(session, case_table, len(new_cases))
    existing = [c for cs in open_cases.values() for c in cs if not c["new"] and c["added"]]
    if existing:
        session.execute(
            update(case_table).where(case_table.c.id == bindparam("cid")).values(
                post_count=case_table.c.post_count + bindparam("added"),
                last_activity_at=bindparam("last"), priority=bindparam("prio"),
                version=case_table.c.version + 1),
            [{"cid": c["id"], "added": c["added"], "last": c["last"], "prio": c["priority"]} for c in existing],
        )
    for post, case in placed:
        post.case_id = case["id"]
    workspace_id = posts[0].workspace_id
    drafts = [EventDraft("case.opened", "case", str(c["id"]), workspace_id,
                         after={"status": "new", "priority": c["priority"]}) for c in new_cases]
    drafts += [EventDraft("case.post_added", "case", str(c["id"]), workspace_id,
                          after={"post_id": post.id}) for post, c in placed if not c["new"]]
    record_many(session, SYSTEM, drafts)
    placement.case_of = {post.id: case["id"] for post, case in placed}
    placement.opened = [c["id"] for c in new_cases]
    placement.extended = [c["id"] for c in existing]
    known = known_workspaces(session)
    known.update(dict.fromkeys(placement.opened, workspace_id))
    known.update(dict.fromkeys(placement.extended, workspace_id))
    return placement


def known_workspaces(session: Session) -> dict[int, int]:
    """Case id -> workspace id of the cases `place_posts` opened or extended in the session's
    current transaction, for the event handlers that need the workspace of the cases
    announced (no query). Forgotten with the transaction (a rolled-back id may come back)."""
    transaction = session.get_transaction()
    entry = session.info.get("cases.workspace_of")
    if entry is None or entry[0] is not transaction:
        entry = session.info["cases.workspace_of"] = (transaction, {})
    known: dict[int, int] = entry[1]
    return known


def announce(session: Session, placement: Placement) -> None:
    """Tell the other domains (SLA, routing, crisis...) about the cases `place_posts` touched."""
    if placement.opened:
        publish(session, "case.opened", case_ids=placement.opened)
    if placement.extended:
        publish(session, "case.post_added", case_ids=placement.extended)


def attach_posts(session: Session, post_ids: Sequence[int]) -> dict[int, int]:
    """Put each stored inbound post without a case in one (see `place_posts`). Idempotent:
    posts that already have a case are left alone. Returns post id -> case id for those placed."""
    if not post_ids:
        return {}
    placement = place_posts(session, load_pending(session, list(post_ids)))
    if placement.case_of:
        post_table = cast(Table, Post.__table__)
        session.execute(update(post_table).where(post_table.c.id == bindparam("pid"))
                        .values(case_id=bindparam("cid")),
                        [{"pid": pid, "cid": cid} for pid, cid in placement.case_of.items()])
    announce(session, placement)
    return placement.case_of


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
    # Cases whose every customer post is spam a lead folded away: left out (None), listed alone
    # ("only"), or listed with the others ("all").
    hidden: str | None = None
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
    hidden: bool = False  # every customer post of the case is spam folded away


@dataclass(slots=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    per_page: int
    hidden_total: int = 0  # cases the same filters leave out as hidden spam

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SORTS = {
    "priority": (Case.priority.asc(), Case.last_activity_at.desc()),
    "newest": (Case.last_activity_at.desc(),),
    "oldest": (Case.last_activity_at.asc(),),
}


def _inbox_conditions(session: Session, workspace_id: int, user_id: int, filters: InboxFilter,
                      plain: bool = False) -> list[Any]:
    """The filters as SQL conditions on the case table. `plain=True` writes the column tests so
    that no index can serve them (`col + 0`, `col || ''`): for a query that must find its few
    rows by primary key, which SQLite's planner (without statistics) would otherwise scan for."""
    def number(column: Any) -> Any:
        return column + 0 if plain else column

    def word(column: Any) -> Any:
        return column.concat("") if plain else column

    conditions: list[Any] = [number(Case.workspace_id) == workspace_id]
    if filters.status == "active":
        conditions.append(word(Case.status).in_(OPEN_VALUES))
    elif filters.status:
        conditions.append(word(Case.status) == filters.status)
    if filters.channel_id:
        conditions.append(number(Case.channel_id) == filters.channel_id)
    if filters.language:
        conditions.append(word(Case.language) == filters.language)
    if filters.priority:
        conditions.append(number(Case.priority) == filters.priority)
    if filters.assignee == "me":
        conditions.append(number(Case.assignee_id) == user_id)
    elif filters.assignee == "none":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee and filters.assignee.isdigit():
        conditions.append(number(Case.assignee_id) == int(filters.assignee))
    if filters.q and filters.q.strip():
        conditions.append(case_matches(session, workspace_id=workspace_id, query=filters.q))
    for name, value in filters.label.items():
        conditions.append(Case.id.in_(
            select(Post.case_id).where(Post.workspace_id == workspace_id,
                                       Post.labels[name].as_string() == value)))
    return conditions


def inbox(session: Session, *, workspace_id: int, user_id: int, filters: InboxFilter) -> InboxPage:
    """One page of cases for the inbox, with the newest post of each."""
    conditions = _inbox_conditions(session, workspace_id, user_id, filters)
    # Hidden spam: the few cases whose customer posts are all folded away, found from the hidden
    # posts, then matched against the filters by primary key. Left out by default, and counted as
    # the rest's count minus them. Their ids go into the SQL as written numbers (one bound
    # parameter per id costs more than the query on PostgreSQL).
    hidden_shown: list[int] = []
    listed: Any = None
    if filters.hidden != "all":
        hidden_cases = sorted(hidden_spam_case_ids(session, workspace_id=workspace_id))
        listed = bindparam("hidden_cases", hidden_cases, expanding=True, literal_execute=True)
        if hidden_cases:
            # SQLite's planner, without statistics, would scan the workspace's cases for these.
            plain = _inbox_conditions(session, workspace_id, user_id, filters,
                                      plain=session.get_bind().dialect.name == "sqlite")
            hidden_shown = list(session.scalars(select(Case.id).where(Case.id.in_(listed), *plain)))
    if filters.hidden == "only":
        conditions.append(Case.id.in_(listed) if hidden_shown else false())
        total = len(hidden_shown)
    else:
        total = session.scalar(select(func.count()).select_from(Case).where(and_(*conditions))) or 0
        total -= len(hidden_shown)
        if hidden_shown:
            conditions.append(Case.id.not_in(listed))
    hidden_total = 0 if filters.hidden in ("only", "all") else len(hidden_shown)
    where = and_(*conditions)
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
    hidden = set(hidden_shown)
    if case_ids and filters.hidden == "all":
        hidden = hidden_spam_case_ids(session, workspace_id=workspace_id) & set(case_ids)
    return InboxPage(
        [InboxRow(c, a, ch, name, last_text.get(c.id, c.subject), c.id in hidden) for c, a, ch, name in rows],
        total, page, per_page, hidden_total,
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
