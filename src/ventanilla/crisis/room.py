"""The crisis room: open it from an alert or by hand, gather the team, keep the timeline, agree a
holding statement with sign-offs, and close it only with a post-mortem.

While any room of a workspace is open the workspace is in crisis mode
(`workspace.settings["crisis_mode"] = True`): public replies need a lead's approval (replies
domain). Closing the last open room clears it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, User, Workspace
from ventanilla.accounts.service import Principal
from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.config import get_settings
from ventanilla.crisis.models import (
    CrisisAlert,
    CrisisEntry,
    CrisisMember,
    CrisisPostmortem,
    CrisisRoom,
    CrisisSignoff,
    CrisisStatement,
    EntryKind,
    RoomRole,
    StatementState,
)
from ventanilla.crisis.topics import terms
from ventanilla.db import session_factory, utcnow
from ventanilla.ingest.models import Post

log = logging.getLogger(__name__)

CRISIS_MODE = "crisis_mode"
SIGNOFFS = "crisis_signoffs"
DEFAULT_SIGNOFFS = ("communications", "legal")
LANGUAGES = ("es", "en")
STATEMENTS = Path(__file__).parent / "statements"
KEY_POSTS = 3
MAX_CURVE_HOURS = 24 * 21


class CrisisError(ValueError):
    """A crisis-room request that cannot be carried out; the message says why."""


class CrisisForbidden(CrisisError):
    """The person lacks the room role this needs (e.g. signing off as legal without being legal)."""


# -- rooms -----------------------------------------------------------------------------------


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise CrisisError("no such workspace")
    return workspace


def _set_crisis_mode(session: Session, workspace: Workspace, on: bool, actor: Actor) -> None:
    settings = dict(workspace.settings or {})
    if bool(settings.get(CRISIS_MODE)) == on:
        return
    settings[CRISIS_MODE] = on
    workspace.settings = settings
    record(session, actor, "crisis.mode_on" if on else "crisis.mode_off", target_type="workspace",
           target_id=workspace.id, workspace_id=workspace.id, before={CRISIS_MODE: not on}, after={CRISIS_MODE: on})


def in_crisis_mode(workspace: Workspace) -> bool:
    """True while a crisis room of the workspace is open."""
    return bool((workspace.settings or {}).get(CRISIS_MODE))


def required_signoffs(workspace: Workspace) -> list[str]:
    """The room roles that must sign a statement before it is published."""
    configured = (workspace.settings or {}).get(SIGNOFFS)
    roles = list(configured) if isinstance(configured, list) and configured else list(DEFAULT_SIGNOFFS)
    return [str(r) for r in roles]


def get_room(session: Session, *, workspace_id: int, room_id: int) -> CrisisRoom | None:
    """A room of the workspace, or None."""
    room = session.get(CrisisRoom, room_id)
    return room if room is not None and room.workspace_id == workspace_id else None


def list_rooms(session: Session, *, workspace_id: int, limit: int = 50) -> list[CrisisRoom]:
    """Open rooms first, then the most recent."""
    return list(session.scalars(select(CrisisRoom).where(CrisisRoom.workspace_id == workspace_id)
                                .order_by(CrisisRoom.state.desc(), CrisisRoom.opened_at.desc()).limit(limit)))


def list_alerts(session: Session, *, workspace_id: int, limit: int = 50) -> list[CrisisAlert]:
    """Open alerts first, then the most recent."""
    return list(session.scalars(select(CrisisAlert).where(CrisisAlert.workspace_id == workspace_id)
                                .order_by(CrisisAlert.closed_at.is_(None).desc(), CrisisAlert.updated_at.desc())
                                .limit(limit)))


def add_entry(session: Session, room: CrisisRoom, kind: EntryKind | str, text: str, *,
              actor: Actor = SYSTEM, refs: dict[str, Any] | None = None, at: datetime | None = None) -> CrisisEntry:
    """Append one line to the room's timeline."""
    entry = CrisisEntry(room_id=room.id, at=at or utcnow(), kind=EntryKind(kind).value, actor=actor.name,
                        actor_user_id=actor.user_id, text=text, refs=refs)
    session.add(entry)
    return entry


def open_room(session: Session, *, workspace_id: int, title: str, actor: Principal,
              alert_id: int | None = None) -> CrisisRoom:
    """Open a room (from an alert or by hand); the opener joins as commander; crisis mode goes on."""
    workspace = _workspace(session, workspace_id)
    alert = None
    if alert_id is not None:
        alert = session.get(CrisisAlert, alert_id)
        if alert is None or alert.workspace_id != workspace_id:
            raise CrisisError("no such alert")
        existing = session.scalar(select(CrisisRoom).where(CrisisRoom.alert_id == alert.id, CrisisRoom.state == "open"))
        if existing is not None:
            raise CrisisError(f"this alert already has an open room: {existing.title}")
    title = title.strip() or (f"{alert.topic} ({alert.level})" if alert else "")
    if not title:
        raise CrisisError("give the room a title")
    room = CrisisRoom(workspace_id=workspace_id, title=title[:200], alert_id=alert.id if alert else None,
                      state="open", opened_by=actor.user_id, opened_at=utcnow())
    session.add(room)
    session.flush()
    record(session, actor.actor, "crisis.room_opened", target_type="crisis_room", target_id=room.id,
           workspace_id=workspace_id, after={"title": room.title, "alert_id": room.alert_id})
    add_entry(session, room, EntryKind.status, f"Room opened by {actor.name}", actor=actor.actor)
    session.add(CrisisMember(room_id=room.id, user_id=actor.user_id, role=RoomRole.commander.value,
                             added_by=actor.user_id, seen_at=utcnow(), emailed_at=utcnow()))
    _set_crisis_mode(session, workspace, True, actor.actor)
    add_entry(session, room, EntryKind.status, "Crisis mode on: public replies need a lead's approval",
              actor=actor.actor)
    if alert is not None:
        add_entry(session, room, EntryKind.alert, _alert_line(alert, "open"), refs={"alert_id": alert.id},
                  at=alert.updated_at)
        add_key_posts(session, room, alert)
    session.flush()
    return room


def members(session: Session, room: CrisisRoom) -> list[tuple[CrisisMember, User]]:
    """The room's members with their users, by joining time."""
    rows = session.execute(select(CrisisMember, User).join(User, User.id == CrisisMember.user_id)
                           .where(CrisisMember.room_id == room.id).order_by(CrisisMember.joined_at, CrisisMember.id))
    return [(m, u) for m, u in rows.all()]


def member_roles(session: Session, room: CrisisRoom, user_id: int) -> list[str]:
    """The roles `user_id` holds in the room."""
    return list(session.scalars(select(CrisisMember.role).where(CrisisMember.room_id == room.id,
                                                                CrisisMember.user_id == user_id)))


def _require_open(room: CrisisRoom) -> None:
    if not room.is_open:
        raise CrisisError("the room is closed")


def add_member(session: Session, room: CrisisRoom, *, user_id: int, role: str, actor: Principal) -> CrisisMember:
    """Add a workspace member to the room in a role; they get an in-app notice and an e-mail."""
    _require_open(room)
    try:
        role = RoomRole(role).value
    except ValueError as exc:
        raise CrisisError(f"unknown room role {role!r}; one of: {', '.join(r.value for r in RoomRole)}") from exc
    user = session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        User.id == user_id, Membership.workspace_id == room.workspace_id, User.is_active.is_(True)))
    if user is None:
        raise CrisisError("that person is not in this workspace")
    if session.scalar(select(CrisisMember.id).where(CrisisMember.room_id == room.id, CrisisMember.user_id == user_id,
                                                    CrisisMember.role == role)) is not None:
        raise CrisisError(f"{user.name} is already {role} in this room")
    member = CrisisMember(room_id=room.id, user_id=user.id, role=role, added_by=actor.user_id, joined_at=utcnow())
    session.add(member)
    session.flush()
    record(session, actor.actor, "crisis.member_added", target_type="crisis_room", target_id=room.id,
           workspace_id=room.workspace_id, after={"user_id": user.id, "role": role})
    add_entry(session, room, EntryKind.status, f"{user.name} joined as {role} (added by {actor.name})",
              actor=actor.actor, refs={"user_id": user.id, "role": role})
    return member


def mark_seen(session: Session, room: CrisisRoom, user_id: int) -> None:
    """The member opened the room: their in-app notice goes away."""
    for member in session.scalars(select(CrisisMember).where(CrisisMember.room_id == room.id,
                                                             CrisisMember.user_id == user_id,
                                                             CrisisMember.seen_at.is_(None))):
        member.seen_at = utcnow()


def unseen_rooms(session: Session, *, workspace_id: int, user_id: int) -> list[tuple[CrisisRoom, str]]:
    """Open rooms the user was added to and has not opened since (the in-app notice)."""
    rows = session.execute(select(CrisisRoom, CrisisMember.role)
                           .join(CrisisMember, CrisisMember.room_id == CrisisRoom.id)
                           .where(CrisisRoom.workspace_id == workspace_id, CrisisRoom.state == "open",
                                  CrisisMember.user_id == user_id, CrisisMember.seen_at.is_(None)))
    return [(r, role) for r, role in rows.all()]


def notify_new_members(engine: Engine | None = None, *, room_id: int) -> int:
    """E-mail members added to the room who were not e-mailed yet; returns how many were sent."""
    from ventanilla.sla.alerts import send_email

    settings = get_settings()
    if not settings.smtp_host:
        return 0
    sent = 0
    factory = session_factory(engine)
    with factory() as session:
        pending = list(session.scalars(select(CrisisMember.id).where(CrisisMember.room_id == room_id,
                                                                     CrisisMember.emailed_at.is_(None))))
    for member_id in pending:
        with factory() as session:
            statement = select(CrisisMember).where(CrisisMember.id == member_id, CrisisMember.emailed_at.is_(None))
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update(skip_locked=True)
            member = session.scalar(statement)
            if member is None:
                continue
            user = session.get(User, member.user_id)
            room = session.get(CrisisRoom, member.room_id)
            if user is None or room is None:
                continue
            link = f"{settings.base_url.rstrip('/')}/crisis/rooms/{room.id}"
            try:
                send_email(settings, [user.email], f"[ventanilla] You joined the crisis room \u201c{room.title}\u201d",
                           f"You were added to the crisis room \u201c{room.title}\u201d as {member.role}.\n{link}\n")
            except OSError as exc:
                log.warning("crisis member %s: e-mail not sent (%s)", member_id, exc)
                continue
            member.emailed_at = utcnow()
            session.commit()
            sent += 1
    return sent


# -- the timeline gathers itself ---------------------------------------------------------------


def _alert_line(alert: CrisisAlert, kind: str) -> str:
    if kind == "close":
        return f"Alert closed: {alert.topic} ({alert.why})"
    verb = {"open": "Alert", "escalate": "Alert escalated to", "update": "Alert growing:"}.get(kind, "Alert")
    return f"{verb} {alert.level}: {alert.topic}; {alert.why}"


def _impact(labels: dict[str, Any] | None) -> float:
    try:
        return float((labels or {}).get("impact") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def key_posts(session: Session, alert: CrisisAlert, limit: int = KEY_POSTS) -> list[Post]:
    """The highest-impact negative posts of the alert's topic during the episode."""
    since = alert.opened_at - timedelta(hours=1)
    until = (alert.closed_at or alert.updated_at) + timedelta(hours=1)
    candidates = list(session.scalars(
        select(Post).where(Post.workspace_id == alert.workspace_id, Post.direction == "in",
                           Post.created_at >= since, Post.created_at <= until, Post.labels.is_not(None),
                           or_(Post.labels["sentiment"].as_string() == "negative",
                               Post.labels["complaint"].as_string() == "yes"))
        .order_by(Post.created_at.desc()).limit(2000)))
    words = [w for w in (alert.topic or "").lower().split() if w]
    if words and alert.topic != "negative volume":
        topical = [p for p in candidates if all(w in " ".join(terms(p.text)) for w in words)]
        candidates = topical or candidates
    candidates.sort(key=lambda p: (-_impact(p.labels), -(p.likes + p.shares + p.replies), p.id))
    return candidates[:limit]


def add_key_posts(session: Session, room: CrisisRoom, alert: CrisisAlert) -> int:
    """Put the alert's key posts on the timeline (each post once)."""
    seen = {int((refs or {}).get("post_id", 0)) for refs in session.scalars(
        select(CrisisEntry.refs).where(CrisisEntry.room_id == room.id, CrisisEntry.kind == EntryKind.post.value))}
    added = 0
    for post in key_posts(session, alert):
        if post.id in seen:
            continue
        engagement = post.likes + post.shares + post.replies
        add_entry(session, room, EntryKind.post, f"Key post (impact {_impact(post.labels):.0f}, "
                  f"{engagement} interactions): {post.text[:280]}",
                  refs={"post_id": post.id, "case_id": post.case_id}, at=post.created_at)
        added += 1
    return added


def on_alert_changed(session: Session, alert: CrisisAlert, kind: str) -> None:
    """An alert opened, escalated, grew or closed: every open room of the workspace hears of it."""
    rooms = list(session.scalars(select(CrisisRoom).where(CrisisRoom.workspace_id == alert.workspace_id,
                                                          CrisisRoom.state == "open")))
    for room in rooms:
        add_entry(session, room, EntryKind.alert, _alert_line(alert, kind), refs={"alert_id": alert.id},
                  at=alert.updated_at)
        if kind in ("escalate", "update") and room.alert_id in (None, alert.id):
            add_key_posts(session, room, alert)


def on_reply_sent(session: Session, *, case_id: int, reply_id: int, public: bool) -> None:
    """A reply went out while a room is open: it goes on the timeline."""
    from ventanilla.cases.models import Case

    workspace_id = session.scalar(select(Case.workspace_id).where(Case.id == case_id))
    if workspace_id is None:
        return
    rooms = list(session.scalars(select(CrisisRoom).where(CrisisRoom.workspace_id == workspace_id,
                                                          CrisisRoom.state == "open")))
    if not rooms:
        return
    text = ""
    try:
        from ventanilla.replies.models import Reply

        reply = session.get(Reply, reply_id)
        text = reply.text if reply is not None else ""
    except ImportError:  # replies domain not installed
        pass
    where = "public reply" if public else "private reply"
    for room in rooms:
        add_entry(session, room, EntryKind.reply, f"{where.capitalize()} sent on case #{case_id}: {text[:280]}",
                  refs={"case_id": case_id, "reply_id": reply_id, "public": public})


def timeline(session: Session, room: CrisisRoom) -> list[CrisisEntry]:
    """The room's timeline, oldest first."""
    return list(session.scalars(select(CrisisEntry).where(CrisisEntry.room_id == room.id)
                                .order_by(CrisisEntry.at, CrisisEntry.id)))


def scribe_entry(session: Session, room: CrisisRoom, *, kind: str, text: str, actor: Principal) -> CrisisEntry:
    """A member writes on the timeline: a decision or a note."""
    _require_open(room)
    if kind not in (EntryKind.decision.value, EntryKind.note.value, EntryKind.status.value):
        raise CrisisError("an entry is a decision, a note or a status update")
    text = text.strip()
    if not text:
        raise CrisisError("write something first")
    entry = add_entry(session, room, kind, text[:4000], actor=actor.actor)
    session.flush()
    record(session, actor.actor, "crisis.entry_added", target_type="crisis_room", target_id=room.id,
           workspace_id=room.workspace_id, after={"kind": kind, "entry_id": entry.id})
    return entry


# -- holding statements ------------------------------------------------------------------------


def _statement_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


def render_holding_statement(language: str, values: dict[str, str]) -> str:
    """The holding statement template of `language` rendered in the Jinja2 sandbox."""
    if language not in LANGUAGES:
        raise CrisisError(f"statements are written in {' or '.join(LANGUAGES)}")
    source = (STATEMENTS / f"holding.{language}.j2").read_text(encoding="utf-8")
    return _statement_env().from_string(source).render(**values).strip()


def latest_statement(session: Session, room: CrisisRoom, language: str) -> CrisisStatement | None:
    """The newest version of the room's statement in `language`."""
    return session.scalar(select(CrisisStatement).where(CrisisStatement.room_id == room.id,
                                                        CrisisStatement.language == language)
                          .order_by(CrisisStatement.version.desc()))


def statement_versions(session: Session, room: CrisisRoom, language: str) -> list[tuple[CrisisStatement, User]]:
    """Every version of a statement with who wrote it, newest first."""
    rows = session.execute(select(CrisisStatement, User).join(User, User.id == CrisisStatement.edited_by)
                           .where(CrisisStatement.room_id == room.id, CrisisStatement.language == language)
                           .order_by(CrisisStatement.version.desc()))
    return [(s, u) for s, u in rows.all()]


def create_statement(session: Session, room: CrisisRoom, *, language: str, actor: Principal) -> CrisisStatement:
    """Start the room's holding statement in `language` from the template."""
    _require_open(room)
    workspace = _workspace(session, room.workspace_id)
    if latest_statement(session, room, language) is not None:
        raise CrisisError("this language already has a statement; edit it")
    alert = session.get(CrisisAlert, room.alert_id) if room.alert_id else None
    topic = (alert.topic if alert else room.title) or room.title
    text = render_holding_statement(language, {"brand": workspace.name, "topic": topic})
    return _new_version(session, room, language, text, actor, "crisis.statement_created")


def _new_version(session: Session, room: CrisisRoom, language: str, text: str, actor: Principal,
                 action: str) -> CrisisStatement:
    current = latest_statement(session, room, language)
    version = (current.version if current else 0) + 1
    statement = CrisisStatement(room_id=room.id, language=language, text=text, version=version,
                                edited_by=actor.user_id, edited_at=utcnow(), state=StatementState.draft.value)
    session.add(statement)
    session.flush()
    record(session, actor.actor, action, target_type="crisis_statement", target_id=statement.id,
           workspace_id=room.workspace_id, after={"language": language, "version": version, "text": text})
    add_entry(session, room, EntryKind.status, f"Statement ({language}) v{version} written by {actor.name}",
              actor=actor.actor, refs={"statement_id": statement.id})
    return statement


def edit_statement(session: Session, room: CrisisRoom, *, language: str, text: str, actor: Principal,
                   base_version: int | None = None) -> CrisisStatement:
    """Save a new version; sign-offs were for the old text, so the new one needs them again."""
    _require_open(room)
    current = latest_statement(session, room, language)
    if current is None:
        raise CrisisError("start the statement from the template first")
    if current.state == StatementState.published.value:
        raise CrisisError("this statement is published; a correction is a new statement")
    if base_version is not None and base_version != current.version:
        raise CrisisError(f"someone saved version {current.version} while you edited version {base_version}; "
                          "reload, then edit the newest text")
    text = text.strip()
    if not text:
        raise CrisisError("the statement is empty")
    if text == current.text:
        return current
    return _new_version(session, room, language, text[:8000], actor, "crisis.statement_edited")


def signoffs(session: Session, statement: CrisisStatement) -> list[tuple[CrisisSignoff, User]]:
    """Who signed this version, in which role."""
    rows = session.execute(select(CrisisSignoff, User).join(User, User.id == CrisisSignoff.user_id)
                           .where(CrisisSignoff.statement_id == statement.id).order_by(CrisisSignoff.at))
    return [(s, u) for s, u in rows.all()]


def get_statement(session: Session, *, workspace_id: int, statement_id: int) -> tuple[CrisisStatement, CrisisRoom]:
    """A statement and its room, checked against the workspace."""
    statement = session.get(CrisisStatement, statement_id)
    room = session.get(CrisisRoom, statement.room_id) if statement else None
    if statement is None or room is None or room.workspace_id != workspace_id:
        raise LookupError("no such statement")
    return statement, room


def sign_off(session: Session, statement: CrisisStatement, *, role: str, actor: Principal) -> CrisisSignoff:
    """Sign the statement's current version in a room role the signer holds."""
    room = session.get(CrisisRoom, statement.room_id)
    assert room is not None
    _require_open(room)
    latest = latest_statement(session, room, statement.language)
    if latest is None or latest.id != statement.id:
        raise CrisisError("a newer version exists; sign the newest text")
    if statement.state == StatementState.published.value:
        raise CrisisError("this statement is already published")
    if role not in member_roles(session, room, actor.user_id):
        raise CrisisForbidden(f"only the room's {role} can sign off as {role}")
    if session.scalar(select(CrisisSignoff.id).where(CrisisSignoff.statement_id == statement.id,
                                                     CrisisSignoff.role == role)) is not None:
        raise CrisisError(f"{role} already signed this version")
    signoff = CrisisSignoff(statement_id=statement.id, role=role, user_id=actor.user_id, at=utcnow())
    session.add(signoff)
    statement.state = StatementState.awaiting_signoff.value
    session.flush()
    record(session, actor.actor, "crisis.statement_signed", target_type="crisis_statement", target_id=statement.id,
           workspace_id=room.workspace_id, after={"role": role, "version": statement.version})
    add_entry(session, room, EntryKind.status,
              f"{actor.name} signed off statement ({statement.language}) v{statement.version} as {role}",
              actor=actor.actor, refs={"statement_id": statement.id, "role": role})
    return signoff


def missing_signoffs(session: Session, statement: CrisisStatement, workspace: Workspace) -> list[str]:
    """The required roles that have not signed this version yet."""
    signed = set(session.scalars(select(CrisisSignoff.role).where(CrisisSignoff.statement_id == statement.id)))
    return [r for r in required_signoffs(workspace) if r not in signed]


def publish_statement(session: Session, statement: CrisisStatement, *, actor: Principal) -> CrisisStatement:
    """Publish the statement; refused until every required role signed this exact version."""
    room = session.get(CrisisRoom, statement.room_id)
    assert room is not None
    _require_open(room)
    workspace = _workspace(session, room.workspace_id)
    latest = latest_statement(session, room, statement.language)
    if latest is None or latest.id != statement.id:
        raise CrisisError("a newer version exists; publish the newest text once it is signed")
    if statement.state == StatementState.published.value:
        raise CrisisError("this statement is already published")
    missing = missing_signoffs(session, statement, workspace)
    if missing:
        raise CrisisError(f"cannot publish yet: sign-off missing from {', '.join(missing)}")
    statement.state = StatementState.published.value
    statement.published_at = utcnow()
    statement.published_by = actor.user_id
    record(session, actor.actor, "crisis.statement_published", target_type="crisis_statement",
           target_id=statement.id, workspace_id=room.workspace_id,
           after={"language": statement.language, "version": statement.version, "text": statement.text})
    add_entry(session, room, EntryKind.status,
              f"Statement ({statement.language}) v{statement.version} published by {actor.name}: {statement.text}",
              actor=actor.actor, refs={"statement_id": statement.id})
    return statement


# -- post-mortem and closing -------------------------------------------------------------------


def _hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def volume_curve(session: Session, room: CrisisRoom, until: datetime | None = None) -> list[dict[str, Any]]:
    """Negative posts per hour from the alert's start (or the room's opening) to `until`."""
    start = room.opened_at
    if room.alert_id:
        alert = session.get(CrisisAlert, room.alert_id)
        if alert is not None:
            start = min(start, alert.opened_at)
    end = until or room.closed_at or utcnow()
    start = max(_hour(start), _hour(end) - timedelta(hours=MAX_CURVE_HOURS - 1))
    times = session.scalars(select(Post.created_at).where(
        Post.workspace_id == room.workspace_id, Post.direction == "in", Post.created_at >= start,
        Post.created_at <= end, Post.labels.is_not(None),
        or_(Post.labels["sentiment"].as_string() == "negative", Post.labels["complaint"].as_string() == "yes")))
    counts = Counter(_hour(t) for t in times)
    curve = []
    hour = start
    while hour <= end:
        curve.append({"hour": hour.isoformat(), "negative": counts.get(hour, 0)})
        hour += timedelta(hours=1)
    return curve


def get_postmortem(session: Session, room: CrisisRoom) -> CrisisPostmortem | None:
    return session.scalar(select(CrisisPostmortem).where(CrisisPostmortem.room_id == room.id))


def save_postmortem(session: Session, room: CrisisRoom, *, went_well: str, went_badly: str, actions: list[str],
                    actor: Principal) -> CrisisPostmortem:
    """Write (or rewrite) the room's post-mortem; the volume curve is recomputed."""
    _require_open(room)
    cleaned = [a.strip()[:500] for a in actions if a.strip()]
    postmortem = get_postmortem(session, room)
    if postmortem is None:
        postmortem = CrisisPostmortem(room_id=room.id, written_by=actor.user_id)
        session.add(postmortem)
    postmortem.went_well = went_well.strip()
    postmortem.went_badly = went_badly.strip()
    postmortem.actions = [{"text": a, "backlog_id": None} for a in cleaned]
    postmortem.volume_curve = volume_curve(session, room)
    postmortem.written_by = actor.user_id
    postmortem.written_at = utcnow()
    session.flush()
    record(session, actor.actor, "crisis.postmortem_saved", target_type="crisis_room", target_id=room.id,
           workspace_id=room.workspace_id, after={"went_well": postmortem.went_well,
                                                  "went_badly": postmortem.went_badly, "actions": cleaned})
    return postmortem


@dataclass(frozen=True, slots=True)
class BacklogResult:
    """Where post-mortem actions went: the backlog's ids, or None when they stayed here."""

    ids: list[int | None]
    backlog_available: bool


def backlog_available() -> bool:
    """True when the improvement backlog domain is installed."""
    try:
        from ventanilla.improvements import service  # noqa: F401
    except ImportError:
        return False
    return True


def _to_backlog(session: Session, *, room: CrisisRoom, text: str, actor: Principal) -> int | None:
    """Add one action to the improvement backlog; None when there is no backlog or it refused."""
    try:
        from ventanilla.improvements.service import ImprovementError, create_improvement
    except ImportError:
        return None
    try:
        with session.begin_nested():
            improvement = create_improvement(
                session, workspace_id=room.workspace_id, title=text[:200], actor=actor.actor,
                description=f"Action from the post-mortem of crisis room \u201c{room.title}\u201d (#{room.id}): {text}")
    except ImprovementError as exc:
        log.warning("post-mortem action not added to the backlog (%s); kept in the post-mortem", exc)
        return None
    return improvement.id


def push_actions(session: Session, room: CrisisRoom, postmortem: CrisisPostmortem, actor: Principal) -> BacklogResult:
    """Send the post-mortem's actions to the improvement backlog when it exists (else they stay stored)."""
    available = backlog_available()
    actions = [dict(a) for a in postmortem.actions or []]
    if available:
        for action in actions:
            if action.get("backlog_id") is None:
                action["backlog_id"] = _to_backlog(session, room=room, text=str(action["text"]), actor=actor)
        postmortem.actions = actions
    return BacklogResult([a.get("backlog_id") for a in actions], available)


def close_room(session: Session, room: CrisisRoom, *, actor: Principal) -> CrisisPostmortem:
    """Close the room: needs a post-mortem; actions go to the backlog; crisis mode ends with the last room."""
    _require_open(room)
    postmortem = get_postmortem(session, room)
    if postmortem is None or not postmortem.went_well or not postmortem.went_badly:
        raise CrisisError("write the post-mortem (what went well, what went badly, actions) before closing the room")
    now = utcnow()
    room.state = "closed"
    room.closed_at = now
    postmortem.volume_curve = volume_curve(session, room, until=now)
    result = push_actions(session, room, postmortem, actor)
    add_entry(session, room, EntryKind.status, f"Room closed by {actor.name}", actor=actor.actor)
    record(session, actor.actor, "crisis.room_closed", target_type="crisis_room", target_id=room.id,
           workspace_id=room.workspace_id,
           after={"backlog_ids": result.ids, "backlog_available": result.backlog_available})
    session.flush()
    still_open = session.scalar(select(func.count()).select_from(CrisisRoom).where(
        CrisisRoom.workspace_id == room.workspace_id, CrisisRoom.state == "open"))
    if not still_open:
        _set_crisis_mode(session, _workspace(session, room.workspace_id), False, actor.actor)
    return postmortem


def workspace_people(session: Session, workspace_id: int) -> list[tuple[User, str]]:
    """Who can be added to a room: the workspace's active users with their product role."""
    rows = session.execute(select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                           .where(Membership.workspace_id == workspace_id, User.is_active.is_(True))
                           .order_by(User.name))
    return [(u, r) for u, r in rows.all()]
