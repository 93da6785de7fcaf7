"""SLA policies and each case's clocks: started on opening, paused while waiting on the customer,
met by replies and resolution, and recomputed in bulk with breach alerts created exactly once."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import numpy as np
import orjson
from sqlalchemy import Table, and_, delete, func, insert, not_, or_, select, text, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, Team, Workspace
from ventanilla.audit.service import SYSTEM, Actor, EventDraft, record, record_many
from ventanilla.bulk import bulk_insert, one_of, reserve_ids
from ventanilla.cases.models import Case
from ventanilla.db import utcnow
from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.clock import add_business_seconds, closed_pause_seconds
from ventanilla.sla.epoch import epoch
from ventanilla.sla.models import (
    TARGETS,
    CaseSla,
    SlaAlert,
    SlaAlertRecipient,
    SlaPolicy,
    case_sla_clock_table,
    case_sla_table,
)
from ventanilla.sla.recompute import recompute_many, recompute_with_thresholds
from ventanilla.sla.status import DEFAULT_AT_RISK_RATIO, SlaState

RUNNING_STATES = (SlaState.ON_TRACK.value, SlaState.AT_RISK.value, SlaState.PAUSED.value)
# Serialises bulk recomputations on PostgreSQL (a transaction-level advisory lock).
_RECOMPUTE_LOCK_KEY = 7_007_001
_CHUNK = 500


def _each_batch(session: Session, column: Any, values: Sequence[Any]) -> Iterator[Any]:
    """``column IN values`` as one condition per batch: a single array parameter on PostgreSQL
    (`one_of`), lists of `_CHUNK` on SQLite (whose statements take a bounded number of values)."""
    if not values:
        return
    size = len(values) if session.get_bind().dialect.name == "postgresql" else _CHUNK
    for start in range(0, len(values), size):
        yield one_of(session, column, values[start:start + size])


class SlaError(ValueError):
    """An SLA change that cannot be made, with the reason."""


# --- calendar -----------------------------------------------------------------------------------


def workspace_calendar(session: Session, workspace_id: int) -> BusinessCalendar:
    """The workspace's business calendar (office hours in its time zone until a lead sets one)."""
    row = session.execute(select(Workspace.timezone, Workspace.settings).where(Workspace.id == workspace_id)).one()
    stored = (row.settings or {}).get("calendar")
    if stored:
        return BusinessCalendar.from_dict(stored)
    return BusinessCalendar.office_hours(row.timezone or "UTC")


def set_calendar(session: Session, *, workspace_id: int, calendar: BusinessCalendar, actor: Actor,
                 now: datetime | None = None) -> None:
    """Store the workspace's calendar; every running clock's due times move with it at once."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise SlaError("no such workspace")
    settings = dict(workspace.settings or {})
    before = settings.get("calendar")
    settings["calendar"] = calendar.to_dict()
    workspace.settings = settings  # a new dict, so the JSON column is seen as changed
    session.flush()
    # Running clocks move with the calendar: every running target's due time is recomputed now
    # and written in the same single pass (one bulk UPDATE, not one to forget them and another).
    recompute_open_cases(session, now or utcnow(), workspace_id=workspace_id, full=True, reset=True)
    record(session, actor, "sla.calendar_set", target_type="workspace", target_id=workspace_id,
           workspace_id=workspace_id, before={"calendar": before}, after={"calendar": settings["calendar"]})


def webhook_url(session: Session, workspace_id: int) -> str | None:
    """The workspace's outgoing webhook for SLA alerts (Slack/Mattermost compatible), if set."""
    settings = session.scalar(select(Workspace.settings).where(Workspace.id == workspace_id)) or {}
    url = settings.get("sla_webhook_url")
    return str(url) if url else None


def set_webhook_url(session: Session, *, workspace_id: int, url: str | None, actor: Actor) -> None:
    """Set (or clear, with None) where SLA alerts are posted as `{"text": ...}`."""
    if url and not url.startswith(("http://", "https://")):
        raise SlaError("the webhook URL must start with http:// or https://")
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise SlaError("no such workspace")
    settings = dict(workspace.settings or {})
    before = settings.get("sla_webhook_url")
    settings["sla_webhook_url"] = url or None
    workspace.settings = settings
    session.flush()
    record(session, actor, "sla.webhook_set", target_type="workspace", target_id=workspace_id,
           workspace_id=workspace_id, before={"url": before}, after={"url": url or None})


# --- policies -----------------------------------------------------------------------------------


@dataclass(slots=True)
class PolicyInput:
    """What a lead fills in for a policy; minutes of business time, None for no promise."""

    name: str
    priority: int | None = None
    channel_id: int | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    position: int | None = None

    def check(self) -> None:
        if not self.name.strip():
            raise SlaError("a policy needs a name")
        if self.priority is not None and self.priority not in (1, 2, 3, 4):
            raise SlaError("priority must be 1 to 4, or empty for any")
        minutes = (self.first_response_minutes, self.next_response_minutes, self.resolution_minutes)
        if all(m is None for m in minutes):
            raise SlaError("a policy promises at least one of first response, next response, resolution")
        if any(m is not None and m <= 0 for m in minutes):
            raise SlaError("promised times must be positive minutes")


def _policy_dict(policy: SlaPolicy) -> dict[str, Any]:
    return {"name": policy.name, "priority": policy.priority, "channel_id": policy.channel_id,
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes, "position": policy.position}


def list_policies(session: Session, *, workspace_id: int) -> list[SlaPolicy]:
    """The workspace's policies in matching order."""
    return list(session.scalars(select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id)
                                .order_by(SlaPolicy.position, SlaPolicy.id)))


def add_policy(session: Session, *, workspace_id: int, data: PolicyInput, actor: Actor) -> SlaPolicy:
    """Add a policy (last in order unless a position is given)."""
    data.check()
    position = data.position
    if position is None:
        position = (session.scalar(select(func.max(SlaPolicy.position))
                                   .where(SlaPolicy.workspace_id == workspace_id)) or 0) + 10
    policy = SlaPolicy(workspace_id=workspace_id, name=data.name.strip()[:120], priority=data.priority,
                       channel_id=data.channel_id, first_response_minutes=data.first_response_minutes,
                       next_response_minutes=data.next_response_minutes,
                       resolution_minutes=data.resolution_minutes, position=position)
    session.add(policy)
    session.flush()
    record(session, actor, "sla.policy_added", target_type="sla_policy", target_id=policy.id,
           workspace_id=workspace_id, after=_policy_dict(policy))
    return policy


def update_policy(session: Session, *, workspace_id: int, policy_id: int, data: PolicyInput,
                  actor: Actor) -> SlaPolicy:
    """Change a policy; cases already started keep the targets they started with."""
    data.check()
    policy = session.scalar(select(SlaPolicy).where(SlaPolicy.id == policy_id,
                                                    SlaPolicy.workspace_id == workspace_id))
    if policy is None:
        raise SlaError("no such policy")
    before = _policy_dict(policy)
    policy.name = data.name.strip()[:120]
    policy.priority = data.priority
    policy.channel_id = data.channel_id
    policy.first_response_minutes = data.first_response_minutes
    policy.next_response_minutes = data.next_response_minutes
    policy.resolution_minutes = data.resolution_minutes
    if data.position is not None:
        policy.position = data.position
    session.flush()
    record(session, actor, "sla.policy_changed", target_type="sla_policy", target_id=policy.id,
           workspace_id=workspace_id, before=before, after=_policy_dict(policy))
    return policy


def delete_policy(session: Session, *, workspace_id: int, policy_id: int, actor: Actor) -> None:
    """Delete a policy; its cases keep their clocks (policy_id becomes NULL)."""
    policy = session.scalar(select(SlaPolicy).where(SlaPolicy.id == policy_id,
                                                    SlaPolicy.workspace_id == workspace_id))
    if policy is None:
        raise SlaError("no such policy")
    before = _policy_dict(policy)
    session.execute(update(case_sla_table).where(case_sla_table.c.policy_id == policy_id).values(policy_id=None))
    session.execute(delete(SlaPolicy).where(SlaPolicy.id == policy_id))
    record(session, actor, "sla.policy_deleted", target_type="sla_policy", target_id=policy_id,
           workspace_id=workspace_id, before=before)


def match_policy(policies: Sequence[SlaPolicy], *, priority: int, channel_id: int) -> SlaPolicy | None:
    """The first policy (in order) whose priority and channel match; None fields match anything."""
    for policy in policies:
        if policy.priority is not None and policy.priority != priority:
            continue
        if policy.channel_id is not None and policy.channel_id != channel_id:
            continue
        return policy
    return None


def _seconds(minutes: int | None) -> float | None:
    return None if minutes is None else minutes * 60.0


# --- one case's clocks --------------------------------------------------------------------------


@dataclass(slots=True)
class Reading:
    """A target's clock at one instant."""

    due: datetime | None
    elapsed: float
    state: SlaState


def read_clock(calendar: BusinessCalendar, start: datetime, target: float, paused: float,
               paused_since: datetime | None, now: datetime, *, done: bool = False) -> Reading:
    """Due time, elapsed business time and state of one target (the bulk code, for one case)."""
    since = np.nan if paused_since is None else paused_since.timestamp()
    due, elapsed, codes = recompute_many(calendar, [start.timestamp()], [target], [paused], now,
                                         paused_since=[since])
    state = SlaState.from_code(int(codes[0]))
    if done:
        state = SlaState.BREACHED if elapsed[0] > target else SlaState.MET
    return Reading(_moment(float(due[0])), float(elapsed[0]), state)


def _moment(value: float) -> datetime | None:
    if math.isnan(value):
        return None
    return datetime.fromtimestamp(round(value, 6), UTC)


def start_clocks(session: Session, case_ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Start the SLA clocks of newly opened cases (idempotent). Returns how many started."""
    if not case_ids:
        return 0
    now = now or utcnow()
    cases: list[Any] = []
    ids = list(case_ids)
    for wanted, known in zip(_each_batch(session, Case.id, ids), _each_batch(session, case_sla_table.c.case_id, ids),
                             strict=True):
        cases += session.execute(
            select(Case.id, Case.workspace_id, Case.priority, Case.channel_id, Case.opened_at)
            .where(wanted).where(~Case.id.in_(select(case_sla_table.c.case_id).where(known)))
        ).all()
    rows: list[dict[str, Any]] = []
    by_workspace: dict[int, list[Any]] = {}
    for case in cases:
        by_workspace.setdefault(case.workspace_id, []).append(case)
    for workspace_id, group in by_workspace.items():
        policies = list_policies(session, workspace_id=workspace_id)
        if not policies:
            continue
        calendar = workspace_calendar(session, workspace_id)
        started: list[dict[str, Any]] = []
        for case in group:
            policy = match_policy(policies, priority=case.priority, channel_id=case.channel_id)
            if policy is None:
                continue
            started.append({
                "case_id": case.id, "workspace_id": workspace_id, "policy_id": policy.id,
                "started_at": case.opened_at, "updated_at": now,
                "first_response_seconds": _seconds(policy.first_response_minutes),
                "next_response_seconds": _seconds(policy.next_response_minutes),
                "resolution_seconds": _seconds(policy.resolution_minutes),
                "first_response_paused": 0.0, "next_response_paused": 0.0, "resolution_paused": 0.0,
                "first_response_due": None, "first_response_state": None,
                "resolution_due": None, "resolution_state": None,
            })
        # Due times and first states for the whole batch at once (a case may open late, from old posts).
        for target in ("first_response", "resolution"):
            todo = [row for row in started if row[f"{target}_seconds"] is not None]
            if not todo:
                continue
            due, _elapsed, codes = recompute_many(
                calendar, [row["started_at"].timestamp() for row in todo], [row[f"{target}_seconds"] for row in todo],
                np.zeros(len(todo)), max(now, max(row["started_at"] for row in todo)))
            for row, moment, code in zip(todo, due, codes, strict=True):
                row[f"{target}_due"] = _moment(float(moment))
                row[f"{target}_state"] = SlaState.from_code(int(code)).value
        rows += started
    if rows:
        _insert_clocks(session, rows)
    return len(rows)


_COMPUTED = ("first_response_due", "first_response_state", "next_response_due", "next_response_state",
             "resolution_due", "resolution_state", "next_check")


def _insert_clocks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new clocks: a `case_sla` row (skipped if the case has one) and its `case_sla_clock` row."""
    connection = session.connection()
    wide = [{k: v for k, v in row.items() if k not in _COMPUTED} for row in rows]
    by_case = {row["case_id"]: row for row in rows}
    for start in range(0, len(wide), _CHUNK):
        created = connection.execute(
            _insert_ignore(session, case_sla_table, ["case_id"]).values(wide[start:start + _CHUNK])
            .returning(case_sla_table.c.id, case_sla_table.c.case_id)).all()
        narrow = [{"case_sla_id": sla_id, "computed_at": by_case[case_id]["updated_at"],
                   **{k: by_case[case_id].get(k) for k in _COMPUTED}} for sla_id, case_id in created]
        if narrow:
            connection.execute(insert(case_sla_clock_table), narrow)


def _insert_ignore(session: Session, model: Any, conflict: list[str]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(model).on_conflict_do_nothing(index_elements=conflict)
    if dialect == "sqlite":
        return sqlite_insert(model).on_conflict_do_nothing(index_elements=conflict)
    return insert(model)


def _clock_of(session: Session, case_id: int) -> CaseSla | None:
    return session.scalar(select(CaseSla).where(CaseSla.case_id == case_id))


def _running_targets(clock: CaseSla) -> list[tuple[str, datetime]]:
    """The targets whose clocks run on this case, with when each started."""
    running: list[tuple[str, datetime]] = []
    if clock.first_response_seconds is not None and clock.first_responded_at is None:
        running.append(("first_response", clock.started_at))
    if (clock.next_response_seconds is not None and clock.next_response_started_at is not None
            and clock.next_response_done_at is None):
        running.append(("next_response", clock.next_response_started_at))
    if clock.resolution_seconds is not None:
        running.append(("resolution", clock.started_at))
    return running


def _refresh(calendar: BusinessCalendar, clock: CaseSla, now: datetime) -> None:
    """Recompute due time and state of every running target of one case."""
    for target, start in _running_targets(clock):
        reading = read_clock(calendar, start, getattr(clock, f"{target}_seconds"),
                             getattr(clock, f"{target}_paused"), clock.paused_since, max(now, start))
        setattr(clock, f"{target}_due", reading.due)
        setattr(clock, f"{target}_state", reading.state.value)
    clock.next_check = None
    clock.computed_at = now
    clock.updated_at = now


def pause(session: Session, *, case_id: int, at: datetime) -> None:
    """Stop the clocks while the case waits on the customer (or is resolved)."""
    clock = _clock_of(session, case_id)
    if clock is None or clock.paused_since is not None:
        return
    calendar = workspace_calendar(session, clock.workspace_id)
    clock.paused_since = at
    _refresh(calendar, clock, at)
    session.flush()


def resume(session: Session, *, case_id: int, at: datetime) -> None:
    """Run the clocks again; the pause's business time moves every target not already due."""
    clock = _clock_of(session, case_id)
    if clock is None or clock.paused_since is None:
        return
    calendar = workspace_calendar(session, clock.workspace_id)
    paused_at = clock.paused_since
    for target, start in _running_targets(clock):
        seconds = getattr(clock, f"{target}_seconds")
        paused = getattr(clock, f"{target}_paused")
        due_without_pause = add_business_seconds(calendar, start, seconds + paused)
        begins = max(paused_at, start)
        if at > begins:
            paused += closed_pause_seconds(calendar, begins, at, due_without_pause)
        setattr(clock, f"{target}_paused", paused)
    clock.paused_since = None
    _refresh(calendar, clock, at)
    session.flush()


def _finish(calendar: BusinessCalendar, clock: CaseSla, target: str, start: datetime, at: datetime) -> None:
    reading = read_clock(calendar, start, getattr(clock, f"{target}_seconds"), getattr(clock, f"{target}_paused"),
                         clock.paused_since, max(at, start), done=True)
    setattr(clock, f"{target}_state", reading.state.value)


def on_status_changed(session: Session, *, case_id: int, before: str, after: str,
                      at: datetime | None = None) -> None:
    """Waiting pauses the clocks; leaving it resumes them; resolving stops them; reopening resumes."""
    at = at or utcnow()
    done = ("resolved", "closed")
    if after == "waiting" and before != "waiting":
        pause(session, case_id=case_id, at=at)
    elif after in done and before not in done:
        clock = _clock_of(session, case_id)
        if clock is None:
            return
        calendar = workspace_calendar(session, clock.workspace_id)
        for target, start in _running_targets(clock):
            _finish(calendar, clock, target, start, at)
        clock.stopped_at = at
        if clock.paused_since is None:
            clock.paused_since = at
        clock.updated_at = at
        session.flush()
    elif before in done and after not in done:
        clock = _clock_of(session, case_id)
        if clock is None:
            return
        clock.stopped_at = None
        session.flush()
        if after != "waiting":
            resume(session, case_id=case_id, at=at)
    elif before == "waiting" and after != "waiting":
        resume(session, case_id=case_id, at=at)


def on_replied(session: Session, *, case_id: int, at: datetime) -> None:
    """A reply (public or private) meets the first response and any running next response."""
    clock = _clock_of(session, case_id)
    if clock is None:
        return
    calendar = workspace_calendar(session, clock.workspace_id)
    if clock.first_responded_at is None:
        if clock.first_response_seconds is not None:
            _finish(calendar, clock, "first_response", clock.started_at, at)
        clock.first_responded_at = at
    elif (clock.next_response_started_at is not None and clock.next_response_done_at is None
          and clock.next_response_seconds is not None):
        _finish(calendar, clock, "next_response", clock.next_response_started_at, at)
        clock.next_response_done_at = at
    clock.next_check = None
    clock.updated_at = at
    session.flush()


def on_customer_wrote(session: Session, *, case_ids: Sequence[int]) -> None:
    """After our reply, the customer's next post starts the next-response clock."""
    for batch in _each_batch(session, CaseSla.case_id, list(case_ids)):
        rows = session.execute(
            select(CaseSla, Case.last_activity_at).join(Case, Case.id == CaseSla.case_id)
            .where(batch,
                   CaseSla.next_response_seconds.is_not(None), CaseSla.first_responded_at.is_not(None),
                   CaseSla.stopped_at.is_(None))
        ).all()
        for clock, wrote_at in rows:
            running = clock.next_response_started_at is not None and clock.next_response_done_at is None
            if running:
                continue
            calendar = workspace_calendar(session, clock.workspace_id)
            clock.next_response_started_at = wrote_at
            clock.next_response_done_at = None
            clock.next_response_paused = 0.0
            _refresh(calendar, clock, max(utcnow(), wrote_at))
    session.flush()


# --- bulk recomputation -------------------------------------------------------------------------


@dataclass(slots=True)
class RecomputeResult:
    """What one pass over the open clocks did."""

    cases: int = 0
    changed: int = 0
    alerts: list[int] = field(default_factory=list)
    escalated_cases: list[int] = field(default_factory=list)
    seconds: float = 0.0


# `next_check` of a clock that only an event can change (paused, breached, met): far in the future.
_NEVER = 1e12
# Bits of the `flags` column read by `recompute_open_cases` (packed, so 100,000 rows stay cheap to fetch).
_LIVE = {"first_response": 1, "next_response": 2, "resolution": 0}
_DUE_NULL = {"first_response": 4, "next_response": 8, "resolution": 16}
_UNALERTED = {("first_response", "at_risk"): 32, ("first_response", "breached"): 64,
              ("next_response", "at_risk"): 128, ("next_response", "breached"): 256,
              ("resolution", "at_risk"): 512, ("resolution", "breached"): 1024}
# A state name per code, and None first: `_STATE_OR_KEEP[code + 1]`, code -1 meaning "unchanged".
_STATE_OR_KEEP = np.array([None, *(state.value for state in SlaState)], dtype=object)
_PG_STATE_OR_KEEP = ["NULL", *(state.value for state in SlaState)]
_AT_RISK, _BREACHED = SlaState.AT_RISK.code, SlaState.BREACHED.code
_ON_TRACK = SlaState.ON_TRACK.code
_KIND_CODES = {"at_risk": _AT_RISK, "breached": _BREACHED}
# Columns of the bulk read, in order (every one a number, so the rows become one float array).
_ID, _WORKSPACE, _STARTED, _PAUSED_SINCE, _NEXT_STARTED = range(5)
_TARGET_COLUMNS = {"first_response": 5, "next_response": 8, "resolution": 11}  # seconds, paused, state
_FLAGS, _NEXT_CHECK = 14, 15


def _flag(condition: Any, bit: int) -> Any:
    return sql_case((condition, bit), else_=0)


def _state_code(column: Any) -> Any:
    """SQL: a stored state as its `SlaState.code` (NULL stays NULL)."""
    return sql_case({state.value: state.code for state in SlaState}, value=column)


def _settled(target: str) -> Any:
    """SQL: this target's clock cannot change any more in a pass (none, done, or breached and told)."""
    c = CaseSla
    seconds = getattr(c, f"{target}_seconds")
    conditions = [seconds.is_(None),
                  and_(getattr(c, f"{target}_state") == SlaState.BREACHED.value,
                       getattr(c, f"{target}_breached_alerted_at").is_not(None),
                       getattr(c, f"{target}_due").is_not(None))]
    if target == "first_response":
        conditions.append(c.first_responded_at.is_not(None))
    if target == "next_response":
        conditions += [c.next_response_started_at.is_(None), c.next_response_done_at.is_not(None)]
    return or_(*conditions)


def _read_clocks(connection: Any, query: Any, width: int) -> np.ndarray[Any, Any]:
    """The rows of an all-numeric select as one float array (NULL: NaN).

    Read through the driver's own cursor: 100,000 rows of plain tuples go straight into numpy,
    without a result object per row (half the cost of the read). The query holds no bound
    parameter (`literal_binds`: only numbers we produce ourselves).
    """
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    raw = connection.connection
    # psycopg's binary format: numbers arrive as machine values, not text to parse (a third less
    # client time for 100,000 rows).
    cursor = raw.cursor(binary=True) if connection.dialect.name == "postgresql" else raw.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return np.empty((0, width))
    return np.array(rows, dtype=np.float64)


def recompute_open_cases(session: Session, now: datetime | None = None, *,
                         workspace_id: int | None = None, full: bool = False,
                         at_risk_ratio: float = DEFAULT_AT_RISK_RATIO, reset: bool = False) -> RecomputeResult:
    """Refresh the running clocks at once: states, due times, and alerts (each exactly once).

    Start times are read as epoch seconds by the database (`epoch`) and the clocks computed
    with numpy (`recompute_with_thresholds`). A pass reads the clocks whose `next_check` has
    come (a threshold or due time reached, or an event since the last pass); `full=True` reads
    every running clock. Clocks that can no longer change (met, or breached and alerted) are
    never read. Only the clocks whose state, due time or next check changed are written, in
    one bulk statement.

    `reset=True` (with `full=True`, after a calendar change) rewrites every running target's due
    time and state, even those the pass would otherwise keep.

    Safe to run twice or concurrently: on PostgreSQL passes take turns on an advisory lock (and
    SQLite's writers queue on BEGIN IMMEDIATE); the UNIQUE (case, target, kind) on alerts is
    the last guard. The caller commits.
    """
    began = time.perf_counter()
    now = now or utcnow()
    now_epoch = now.timestamp()
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RECOMPUTE_LOCK_KEY})
    c = CaseSla
    flags = (_flag(c.first_responded_at.is_(None), 1) + _flag(c.next_response_done_at.is_(None), 2)
             + sum((_flag(getattr(c, f"{t}_due").is_(None), bit) for t, bit in _DUE_NULL.items()), start=0)
             + sum((_flag(getattr(c, f"{t}_{k}_alerted_at").is_(None), bit) for (t, k), bit in _UNALERTED.items()),
                   start=0))
    columns: list[Any] = [c.id, c.workspace_id, epoch(c.started_at), epoch(c.paused_since),
                          epoch(c.next_response_started_at)]
    for target in TARGETS:
        columns += [getattr(c, f"{target}_seconds"), getattr(c, f"{target}_paused"),
                    _state_code(getattr(c, f"{target}_state"))]
    columns += [flags, c.next_check]
    # Both tables of the clock, joined on the id (the narrow `case_sla_clock` holds next_check).
    query = select(*columns).select_from(CaseSla.__table__).where(c.stopped_at.is_(None))
    if not reset:
        query = query.where(not_(and_(*(_settled(t) for t in TARGETS))))
    if not (full or reset):
        # The clocks due, found by a scan of the narrow table (`next_check` has no index: keeping
        # one up to date cost the bulk writes more than the scan costs this pass), then fetched by id.
        k = case_sla_clock_table.c
        query = query.where(c.id.in_(select(k.case_sla_id).where(or_(k.next_check.is_(None),
                                                                     k.next_check <= now_epoch))))
    if workspace_id is not None:
        query = query.where(c.workspace_id == workspace_id)
    data = _read_clocks(connection, query, len(columns))
    count = len(data)
    result = RecomputeResult(cases=count)
    if not count:
        result.seconds = time.perf_counter() - began
        return result
    ids = data[:, _ID].astype(np.int64)
    workspaces = data[:, _WORKSPACE].astype(np.int64)
    started = data[:, _STARTED]
    paused_since = data[:, _PAUSED_SINCE]
    bits = np.nan_to_num(data[:, _FLAGS]).astype(np.int64)
    starts = {"first_response": started, "next_response": data[:, _NEXT_STARTED], "resolution": started}
    calendars = {int(ws): workspace_calendar(session, int(ws)) for ws in np.unique(workspaces)}
    groups = {ws: workspaces == ws for ws in calendars}
    candidates: list[tuple[int, str, str, float]] = []  # (row index, target, kind, due)
    next_check = np.full(count, _NEVER)
    writes: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    any_change = np.zeros(count, dtype=np.bool_)
    for target in TARGETS:
        first_col, start = _TARGET_COLUMNS[target], starts[target]
        seconds = data[:, first_col]
        paused = np.nan_to_num(data[:, first_col + 1])
        stored = data[:, first_col + 2]  # state code, NaN when none is stored
        live = ~np.isnan(seconds) & ~np.isnan(start)
        if _LIVE[target]:
            live &= (bits & _LIVE[target]) > 0
        state = np.full(count, -1, dtype=np.int64)  # -1: not computed here
        due = np.full(count, np.nan)
        wake = np.full(count, _NEVER)
        for ws, calendar in calendars.items():
            mask = live & groups[ws]
            if not mask.any():
                continue
            # The due time, and when the at-risk threshold is reached (`ratio x target`), in one pass.
            due_calc, _elapsed, codes, risk_at = recompute_with_thresholds(
                calendar, start[mask], seconds[mask], paused[mask], now,
                paused_since=paused_since[mask], at_risk_ratio=at_risk_ratio)
            state[mask] = codes
            due[mask] = due_calc
            wake[mask] = np.select([codes == _ON_TRACK, codes == _AT_RISK], [risk_at, due_calc], _NEVER)
        next_check = np.fmin(next_check, np.where(live, wake, _NEVER))
        due_null = (bits & _DUE_NULL[target]) > 0
        changed = live & ((state != stored) | (due_null != np.isnan(due)))
        if reset:
            changed = live.copy()
        any_change |= changed
        writes[target] = (np.where(changed, state, -1), due)
        result.changed += int(changed.sum())
        for kind, code in _KIND_CODES.items():
            hit = np.flatnonzero(live & (state == code) & ((bits & _UNALERTED[(target, kind)]) > 0))
            candidates += [(int(i), target, kind, float(due[i])) for i in hit]
    next_check = np.nan_to_num(next_check, nan=_NEVER)
    dirty = any_change | ~(np.abs(next_check - data[:, _NEXT_CHECK]) < 0.0005)
    if reset:
        dirty[:] = True
    if dirty.any():
        _write_clocks(connection, ids[dirty], {t: (s[dirty], d[dirty]) for t, (s, d) in writes.items()},
                      next_check[dirty], now, postgres=postgres)
    if candidates:
        sla_ids = sorted({int(ids[i]) for i, _, _, _ in candidates})
        case_of: dict[int, int] = {}
        for batch in _each_batch(session, case_sla_table.c.id, sla_ids):
            case_of.update(connection.execute(select(case_sla_table.c.id, case_sla_table.c.case_id)
                                              .where(batch)).all())
        _raise_alerts(session, [(int(ids[i]), case_of[int(ids[i])], int(workspaces[i]), t, k, d)
                                for i, t, k, d in candidates], now, result)
    result.seconds = time.perf_counter() - began
    return result


def _sqlite_stamp(moment: datetime) -> str:
    """A UTC datetime as the text SQLAlchemy stores for it on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_datetimes(epochs: np.ndarray[Any, Any]) -> list[str | None]:
    """Epoch seconds as the text SQLAlchemy stores for a UTC DateTime on SQLite (NaN: None)."""
    missing = np.isnan(epochs)
    micros = np.round(np.where(missing, 0.0, epochs) * 1e6).astype(np.int64).astype("datetime64[us]")
    texts = np.datetime_as_string(micros, unit="us")  # 'YYYY-MM-DDTHH:MM:SS.ffffff', fixed width
    if len(texts):
        # The 'T' becomes a space in place (a fixed-width str array is UCS-4: one uint32 a character).
        texts.view(np.uint32).reshape(len(texts), -1)[:, 10] = ord(" ")
    texts = texts.astype(object)
    texts[missing] = None
    return list(texts.tolist())


def _pg_array(values: list[Any], form: Any = repr) -> str:
    """A PostgreSQL array literal of numbers (or of words from `form`, such as NULL or a state)."""
    return "{" + ",".join(map(form, values)) + "}"


def _write_clocks(connection: Any, ids: np.ndarray[Any, Any],
                  writes: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]],
                  next_check: np.ndarray[Any, Any], now: datetime, *, postgres: bool) -> None:
    """Store each read clock's next check and, where they changed, its targets' states and due times.

    A state code of -1 means "unchanged, keep what is stored"; a NaN due time is stored as NULL.
    Targets unchanged on every written row are left out of the statement.
    """
    targets = [t for t in TARGETS if (writes[t][0] >= 0).any()]
    if postgres:
        # One statement over arrays, each sent as one array literal built here: psycopg adapting
        # 100,000-element Python lists costs more than the UPDATE itself.
        sets = "".join(
            f"{t}_state = COALESCE(u.{t}_s, c.{t}_state), "
            f"{t}_due = CASE WHEN u.{t}_s IS NULL THEN c.{t}_due WHEN u.{t}_d < 0 THEN NULL "
            f"ELSE to_timestamp(u.{t}_d) END, " for t in targets)
        arrays = "".join(f"CAST(:{t}_s AS varchar[]), CAST(:{t}_d AS float8[]), " for t in targets)
        names = "".join(f"{t}_s, {t}_d, " for t in targets)
        params: dict[str, Any] = {"ids": _pg_array(ids.tolist()), "next": _pg_array(next_check.tolist()),
                                  "now": now}
        for t in targets:
            due = writes[t][1]
            params[f"{t}_s"] = _pg_array((writes[t][0] + 1).tolist(), _PG_STATE_OR_KEEP.__getitem__)
            params[f"{t}_d"] = _pg_array(np.where(np.isnan(due), -1.0, due).tolist())
        connection.execute(text(
            f"UPDATE case_sla_clock AS c SET {sets}next_check = u.next, computed_at = :now "
            f"FROM unnest(CAST(:ids AS integer[]), {arrays}CAST(:next AS float8[])) "
            f"AS u(id, {names}next) WHERE c.case_sla_id = u.id"), params)
        return
    # SQLite: one prepared UPDATE run for every row (executemany, no ORM), the due times already
    # formatted as SQLAlchemy stores them (numpy formats 100,000 at once; SQL's strftime is slower).
    sets = "".join(
        f"{t}_state = coalesce(?{2 * n + 1}, {t}_state), "
        f"{t}_due = CASE WHEN ?{2 * n + 1} IS NULL THEN {t}_due ELSE ?{2 * n + 2} END, "
        for n, t in enumerate(targets))
    k = 2 * len(targets)
    columns: list[list[Any]] = []
    for t in targets:
        columns += [_STATE_OR_KEEP[writes[t][0] + 1].tolist(), _sqlite_datetimes(writes[t][1])]
    stamp = [_sqlite_stamp(now)] * len(ids)
    connection.exec_driver_sql(
        f"UPDATE case_sla_clock SET {sets}next_check = ?{k + 1}, computed_at = ?{k + 2} WHERE case_sla_id = ?{k + 3}",
        list(zip(*columns, next_check.tolist(), stamp, ids.tolist(), strict=True)))


def escalation_leads(session: Session, case_ids: Sequence[int]) -> dict[int, list[int]]:
    """Who a breach on each case escalates to: its team's lead, else the workspace's leads (or admins)."""
    found: dict[int, list[int]] = {}
    workspace_of: dict[int, int] = {}
    for batch in _each_batch(session, Case.id, list(case_ids)):
        for case_id, workspace_id, lead in session.execute(
            select(Case.id, Case.workspace_id, Team.lead_user_id).outerjoin(Team, Team.id == Case.team_id)
            .where(batch)
        ).all():
            workspace_of[case_id] = workspace_id
            if lead is not None:
                found[case_id] = [lead]
    leads_by_workspace: dict[int, list[int]] = {}
    for workspace_id in {ws for cid, ws in workspace_of.items() if cid not in found}:
        roles = session.execute(select(Membership.user_id, Membership.role)
                                .where(Membership.workspace_id == workspace_id,
                                       Membership.role.in_(("lead", "admin")))
                                .order_by(Membership.user_id)).all()
        leads = [uid for uid, role in roles if role == "lead"] or [uid for uid, role in roles if role == "admin"]
        leads_by_workspace[workspace_id] = leads
    for case_id, workspace_id in workspace_of.items():
        found.setdefault(case_id, leads_by_workspace.get(workspace_id, []))
    return found


def _insert_alerts(session: Session, alerts: list[tuple[int, int, str, str, datetime | None, list[int] | None]],
                   now: datetime) -> list[Any]:
    """Insert the alerts (workspace, case, target, kind, due, escalated_to) that do not exist yet;
    return the rows created (id, case_id, target, kind, workspace_id), in the order given."""
    if not alerts:
        return []
    table = cast(Table, SlaAlert.__table__)
    if session.get_bind().dialect.name == "postgresql":
        # One statement over arrays (a row per alert from `unnest`, `WITH ORDINALITY` keeping the
        # order): no multi-row VALUES text to build and parse for tens of thousands of alerts.
        workspaces, cases, targets, kinds, dues, escalated = (list(column) for column in zip(*alerts, strict=True))
        rows = session.connection().execute(text(
            "INSERT INTO sla_alert (workspace_id, case_id, target, kind, due_at, escalated_to, created_at) "
            "SELECT a.ws, a.case_id, a.target, a.kind, a.due, CAST(a.escalated AS jsonb), :now "
            "FROM unnest(CAST(:ws AS integer[]), CAST(:cases AS integer[]), CAST(:targets AS varchar[]), "
            "CAST(:kinds AS varchar[]), CAST(:dues AS timestamptz[]), CAST(:escalated AS text[])) "
            "WITH ORDINALITY AS a(ws, case_id, target, kind, due, escalated, n) ORDER BY a.n "
            "ON CONFLICT (case_id, target, kind) DO NOTHING "
            "RETURNING id, case_id, target, kind, workspace_id"),
            {"ws": workspaces, "cases": cases, "targets": targets, "kinds": kinds, "dues": dues, "now": now,
             # JSON text, `null` included: what the column's type stores for None.
             "escalated": [orjson.dumps(people).decode() for people in escalated]})
        return sorted(rows.all(), key=lambda row: row.id)
    # SQLite: this writer holds the database's write lock (BEGIN IMMEDIATE) until it commits, so
    # the alerts that exist are read first and the new ones written with keys reserved up front.
    seen: set[tuple[int, str, str]] = set()
    for batch in _each_batch(session, table.c.case_id, sorted({alert[1] for alert in alerts})):
        seen.update((row.case_id, row.target, row.kind) for row in session.execute(
            select(table.c.case_id, table.c.target, table.c.kind).where(batch)))
    fresh = []
    for alert in alerts:
        if (key := (alert[1], alert[2], alert[3])) not in seen:
            seen.add(key)
            fresh.append(alert)
    ids = reserve_ids(session, table, len(fresh))
    bulk_insert(session, table, ("id", "workspace_id", "case_id", "target", "kind", "due_at", "escalated_to",
                                 "created_at"),
                [(alert_id, ws, cid, target, kind, due, orjson.dumps(people).decode(), now)
                 for alert_id, (ws, cid, target, kind, due, people) in zip(ids, fresh, strict=True)],
                ready=("escalated_to",))
    return [_Created(alert_id, cid, target, kind, ws)
            for alert_id, (ws, cid, target, kind, _due, _people) in zip(ids, fresh, strict=True)]


class _Created(NamedTuple):
    id: int
    case_id: int
    target: str
    kind: str
    workspace_id: int


def _mark_alerted(session: Session, marks: dict[int, int], escalations: dict[int, list[int]],
                  now: datetime) -> None:
    """Stamp the clocks' alerted columns (`marks`: `_UNALERTED` bits per clock id) and, for the
    clocks in `escalations`, who the breach went to; a column already stamped keeps its time."""
    if session.get_bind().dialect.name == "postgresql":
        # Each row rewritten once, in one statement, whatever columns it needs.
        sets = "".join(f"{t}_{k}_alerted_at = CASE WHEN u.bits & {bit} > 0 THEN COALESCE(c.{t}_{k}_alerted_at, "
                       f"CAST(:now AS timestamptz)) ELSE c.{t}_{k}_alerted_at END, "
                       for (t, k), bit in _UNALERTED.items())
        ids = list(marks)
        session.connection().execute(text(
            f"UPDATE case_sla AS c SET {sets}"
            "escalated_to = CASE WHEN u.esc IS NULL OR c.escalated_at IS NOT NULL THEN c.escalated_to "
            "ELSE CAST(u.esc AS jsonb) END, "
            "escalated_at = CASE WHEN u.esc IS NULL THEN c.escalated_at "
            "ELSE COALESCE(c.escalated_at, CAST(:now AS timestamptz)) END "
            "FROM unnest(CAST(:ids AS integer[]), CAST(:bits AS integer[]), CAST(:esc AS text[])) "
            "AS u(id, bits, esc) WHERE c.id = u.id"),
            {"now": now, "ids": ids, "bits": [marks[i] for i in ids],
             "esc": [orjson.dumps(escalations[i]).decode() if i in escalations else None for i in ids]})
        return
    for (target, kind), bit in _UNALERTED.items():
        column = case_sla_table.c[f"{target}_{kind}_alerted_at"]
        for batch in _each_batch(session, case_sla_table.c.id, [i for i, bits in marks.items() if bits & bit]):
            session.execute(update(case_sla_table).where(batch, column.is_(None)).values({column: now}))
    by_people: dict[tuple[int, ...], list[int]] = {}
    for sla_id, people in escalations.items():
        by_people.setdefault(tuple(people), []).append(sla_id)
    for people_key, sla_ids in by_people.items():
        for batch in _each_batch(session, case_sla_table.c.id, sla_ids):
            session.execute(update(case_sla_table).where(batch, case_sla_table.c.escalated_at.is_(None))
                            .values(escalated_to=list(people_key), escalated_at=now))


def _raise_alerts(session: Session, candidates: list[tuple[int, int, int, str, str, float]],
                  now: datetime, result: RecomputeResult) -> None:
    """Create the alerts that do not exist yet, flag escalated cases, tell the recipients."""
    case_ids = sorted({cid for _, cid, _, _, kind, _ in candidates})
    leads = escalation_leads(session, case_ids)
    created = _insert_alerts(session, [(ws, cid, target, kind, _moment(due),
                                        leads.get(cid) if kind == "breached" else None)
                                       for _, cid, ws, target, kind, due in candidates], now)
    # Every candidate (new or already there) is marked, so later passes do not try again.
    marks: dict[int, int] = {}
    sla_of: dict[int, int] = {}
    for sid, cid, _, target, kind, _ in candidates:
        marks[sid] = marks.get(sid, 0) | _UNALERTED[(target, kind)]
        sla_of[cid] = sid
    recipients: list[tuple[int, int]] = []
    drafts: list[EventDraft] = []
    escalated: dict[int, list[int]] = {}
    if created:
        assignees: dict[int, int | None] = {}
        for batch in _each_batch(session, Case.id, sorted({row.case_id for row in created})):
            assignees.update(session.execute(select(Case.id, Case.assignee_id).where(batch)).all())
        for alert_id, case_id, target, kind, workspace_id in created:
            assignee = assignees.get(case_id)
            people: list[int] = [] if assignee is None else [assignee]
            if kind == "breached" or not people:
                people += leads.get(case_id, [])
            if kind == "breached":
                escalated[case_id] = leads.get(case_id, [])
            recipients += [(alert_id, uid) for uid in dict.fromkeys(people)]
            drafts.append(EventDraft(f"case.sla_{kind}", "case", str(case_id), workspace_id,
                                     after={"target": target, "alert_id": alert_id,
                                            "escalated_to": leads.get(case_id) if kind == "breached" else None}))
    _mark_alerted(session, marks, {sla_of[cid]: people for cid, people in escalated.items()}, now)
    if not created:
        return
    bulk_insert(session, cast(Table, SlaAlertRecipient.__table__), ("alert_id", "user_id"), recipients)
    record_many(session, SYSTEM, drafts)
    result.alerts = sorted(row.id for row in created)
    result.escalated_cases = sorted(escalated)


# --- reading for the UI -------------------------------------------------------------------------


@dataclass(slots=True)
class TargetView:
    """One target of a case as the case panel shows it."""

    target: str
    seconds: float
    due: datetime | None
    state: str | None


@dataclass(slots=True)
class CaseSlaView:
    """A case's promises for the case page."""

    policy_name: str | None
    targets: list[TargetView]
    paused: bool
    stopped: bool
    escalated_to: list[str]
    escalated_at: datetime | None


def case_view(session: Session, case_id: int) -> CaseSlaView | None:
    """The case's SLA for display (one query, plus the leads' names when escalated)."""
    from ventanilla.accounts.models import User

    row = session.execute(select(CaseSla, SlaPolicy.name).outerjoin(SlaPolicy, SlaPolicy.id == CaseSla.policy_id)
                          .where(CaseSla.case_id == case_id)).first()
    if row is None:
        return None
    clock, policy_name = row
    targets = []
    for target in TARGETS:
        seconds = getattr(clock, f"{target}_seconds")
        if seconds is None:
            continue
        if target == "next_response" and clock.next_response_started_at is None:
            targets.append(TargetView(target, seconds, None, None))
            continue
        targets.append(TargetView(target, seconds, getattr(clock, f"{target}_due"), getattr(clock, f"{target}_state")))
    names: list[str] = []
    if clock.escalated_to:
        names = list(session.scalars(select(User.name).where(User.id.in_(clock.escalated_to)).order_by(User.name)))
    return CaseSlaView(policy_name, targets, clock.paused_since is not None and clock.stopped_at is None,
                       clock.stopped_at is not None, names, clock.escalated_at)
