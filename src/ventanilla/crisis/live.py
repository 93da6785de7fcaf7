"""Live crisis detection: labelled posts -> `CrisisMonitor` -> one `crisis_alert` per episode -> deliveries.

Ingest stays fast: the only work done inside ingest's transaction is a note on the session
("scan workspace N after commit") made by the `case.opened` / `case.post_added` handlers. After
the commit the task `crisis.scan` runs (in-process by default, on a worker with Celery): it feeds
the workspace's labelled posts above its watermark, in time order, to the detectors, turns the
episode events into alert rows (deduplicated by episode), commits, and then delivers each new
level once by e-mail and to the workspace's webhook.

The detectors live in memory, one monitor per database and workspace. A process that has none
(a restart, a second worker, changed settings) rebuilds it from the last `REBUILD_HOURS` of
labelled posts without announcing anything, then reconciles it with the open alerts in the
database. `crisis.tick` re-assesses on the wall clock so that alerts close when a brand goes
quiet; schedule it every few minutes (cron or Celery beat), like `sla.recompute`.

A file import (`scans_behind`, in-process mode, two cores or more) asks a forked process for
its scans instead: the scans' CPU runs beside the import rather than between its chunks, the
import returns once every scan has run, and the importing process rebuilds its own detectors
when it next scans. On SQLite a scan reads posts in a read-only session and takes the write
lock only when it has an alert to write, so ingest keeps writing while it feeds the detectors.
"""

from __future__ import annotations

import logging
import os
import smtplib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Membership, Role, User, Workspace
from ventanilla.audit.service import SYSTEM, record
from ventanilla.config import get_settings
from ventanilla.crisis.episodes import EpisodeEvent, EventKind
from ventanilla.crisis.models import CrisisAlert
from ventanilla.crisis.monitor import CrisisMonitor
from ventanilla.crisis.settings import DetectorSettings, Level
from ventanilla.crisis.signals import CrisisPost
from ventanilla.db import session_factory, utcnow
from ventanilla.events import on
from ventanilla.ingest.models import Author, Post
from ventanilla.ingest.service import NEWEST_POST
from ventanilla.workers.queue import get_queue, task

log = logging.getLogger(__name__)

SCAN = "crisis.scan"
TICK = "crisis.tick"
REBUILD_HOURS = 24 * 14
# Posts older than this behind the newest one seen are too late for the sliding hour.
LATE_SECONDS = 50 * 60
# An unlabelled post younger than this holds the watermark back (triage may still label it).
LABEL_GRACE = timedelta(minutes=10)
_BATCH = 5000


@dataclass(slots=True)
class LiveState:
    """One workspace's detectors in this process, with what they have already seen."""

    monitor: CrisisMonitor
    settings: DetectorSettings
    watermark: int = 0
    fed_above: set[int] = field(default_factory=set)
    late_posts: int = 0


_STATES: dict[tuple[str, int], LiveState] = {}
_LOCK = threading.Lock()


def detector_settings(workspace: Workspace) -> DetectorSettings:
    """The detector settings of a workspace: defaults plus `settings["crisis_detector"]` overrides."""
    overrides = dict((workspace.settings or {}).get("crisis_detector") or {})
    return DetectorSettings().with_overrides(**overrides) if overrides else DetectorSettings()


def forget_state() -> None:
    """Drop every in-memory monitor (the next scan rebuilds from history)."""
    with _LOCK:
        _STATES.clear()


def forget(session: Session, workspace_id: int) -> None:
    """Drop one workspace's monitor after a scan whose alerts were not stored: the next scan
    rebuilds it from history and reconciles the open alert with what it finds."""
    with _LOCK:
        _STATES.pop((str(session.get_bind().engine.url), workspace_id), None)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# -- feeding posts ---------------------------------------------------------------------------


def _post_rows(session: Session, workspace_id: int, *, above: int, since: datetime | None,
               upto: int | None = None) -> list[Any]:
    statement = (
        select(
            Post.id, Post.created_at, Post.received_at, Post.network, Post.text, Post.likes, Post.shares,
            Post.replies, Author.followers,
            Post.labels["sentiment"].as_string().label("sentiment"),
            Post.labels["complaint"].as_string().label("complaint"),
            Post.labels["reason"].as_string().label("reason"),
        )
        .join(Author, Author.id == Post.author_id)
        .where(Post.workspace_id == workspace_id, Post.direction == "in", Post.id > above)
        .order_by(Post.id)
        .limit(_BATCH)
    )
    if since is not None:
        statement = statement.where(Post.created_at >= since)
    if upto is not None:
        statement = statement.where(Post.id <= upto)
    return list(session.execute(statement).all())


def _feed(session: Session, workspace_id: int, brand: str, state: LiveState,
          since: datetime | None = None, upto: int | None = None) -> list[EpisodeEvent]:
    """Feed every labelled post above the watermark (up to post ``upto``) to the monitor; return
    the events."""
    events: list[EpisodeEvent] = []
    grace = utcnow() - LABEL_GRACE
    while True:
        rows = _post_rows(session, workspace_id, above=state.watermark, since=since, upto=upto)
        if not rows:
            return events
        held_back: int | None = None
        fed_above = state.fed_above
        labelled = []
        # Rows are plain tuples here (attribute access on a Row costs more than the detectors).
        for r in rows:
            post_id, created_at, received_at, _n, _t, _l, _s, _r, _f, sentiment, complaint, _reason = r
            if fed_above and post_id in fed_above:
                continue
            if sentiment is None and complaint is None:
                if received_at >= grace and held_back is None:
                    held_back = post_id  # triage may still label it: keep the watermark below it
                continue
            labelled.append((created_at.timestamp(), post_id, r))
        labelled.sort(key=lambda item: (item[0], item[1]))  # timestamps order like created_at
        monitor = state.monitor
        observe = monitor.observe
        add_fed = fed_above.add
        for moment, post_id, r in labelled:
            _i, _c, _rc, network, text, likes, shares, replies, followers, sentiment, complaint, reason = r
            add_fed(post_id)
            if monitor.now and moment < monitor.now - LATE_SECONDS:
                state.late_posts += 1
                continue
            found = observe(CrisisPost(
                moment, brand, sentiment == "negative", complaint == "yes", network or "unknown",
                reason or "unknown", (likes or 0) + (shares or 0) + (replies or 0), followers, text or ""))
            if found:
                events.extend(found)
        top = rows[-1].id
        state.watermark = held_back - 1 if held_back is not None else top
        state.fed_above = {i for i in state.fed_above if i > state.watermark}
        if held_back is not None or len(rows) < _BATCH:
            return events


def _rebuild(session: Session, workspace_id: int, brand: str, settings: DetectorSettings) -> LiveState:
    """Fresh detectors warmed up on the last REBUILD_HOURS of posts (their events are not announced)."""
    state = LiveState(monitor=CrisisMonitor(settings), settings=settings)
    latest = session.scalar(select(func.max(Post.created_at)).where(Post.workspace_id == workspace_id))
    if latest is not None:
        _feed(session, workspace_id, brand, state, since=latest - timedelta(hours=REBUILD_HOURS))
    return state


# -- alerts in the database ------------------------------------------------------------------


def open_alert(session: Session, workspace_id: int) -> CrisisAlert | None:
    """The workspace's open alert (there is at most one per brand; the workspace is the brand)."""
    return session.scalar(select(CrisisAlert).where(
        CrisisAlert.workspace_id == workspace_id, CrisisAlert.closed_at.is_(None)).order_by(CrisisAlert.id.desc()))


def _example_ids(session: Session, workspace_id: int, texts: Sequence[str], since: datetime) -> list[int]:
    if not texts:
        return []
    ids = session.scalars(select(Post.id).where(
        Post.workspace_id == workspace_id, Post.text.in_(list(texts)), Post.created_at >= since)
        .order_by(Post.id.desc()).limit(10))
    return sorted(set(ids))


def apply_event(session: Session, workspace: Workspace, episode_event: EpisodeEvent) -> CrisisAlert | None:
    """Write one episode event to the workspace's alert (created, grown, escalated or closed)."""
    from ventanilla.crisis import room as rooms

    episode = episode_event.episode
    at = _moment(episode_event.time)
    alert = open_alert(session, workspace.id)
    if episode_event.kind is EventKind.close:
        if alert is None:
            return None
        alert.closed_at = at
        alert.updated_at = at
        alert.why = episode.why or alert.why
        record(session, SYSTEM, "crisis.alert_closed", target_type="crisis_alert", target_id=alert.id,
               workspace_id=workspace.id, after={"why": alert.why})
        rooms.on_alert_changed(session, alert, "close")
        return alert
    opened = _moment(episode.opened_at)
    key = f"{int(episode.opened_at)}"
    if alert is None:
        alert = session.scalar(select(CrisisAlert).where(
            CrisisAlert.workspace_id == workspace.id, CrisisAlert.episode_key == key))
        if alert is not None:
            alert.closed_at = None
    created = alert is None
    if alert is None:
        alert = CrisisAlert(workspace_id=workspace.id, episode_key=key, brand=episode.brand, level=episode.level.name,
                            opened_at=opened, updated_at=at, levels=[], example_post_ids=[], examples=[],
                            delivered_email_at={}, delivered_webhook_at={}, topic="", why="")
        session.add(alert)
    before = alert.level
    louder = created or Level[episode.level.name] > Level[alert.level]
    if louder:
        alert.level = episode.level.name
        alert.levels = [*(alert.levels or []), {"level": episode.level.name, "at": at.isoformat()}]
    alert.topic = (episode.topic or "")[:200]
    alert.why = episode.why or alert.why
    alert.examples = list(episode.examples)
    alert.example_post_ids = _example_ids(session, workspace.id, episode.examples, opened - timedelta(hours=2))
    alert.peak_negative_hour = max(alert.peak_negative_hour or 0, episode.peak_negative_hour)
    alert.peak_z = max(alert.peak_z or 0.0, float(episode.peak_z))
    alert.updated_at = at
    session.flush()
    if created:
        record(session, SYSTEM, "crisis.alert_opened", target_type="crisis_alert", target_id=alert.id,
               workspace_id=workspace.id, after={"level": alert.level, "topic": alert.topic, "why": alert.why})
        rooms.on_alert_changed(session, alert, "open")
    elif louder:
        record(session, SYSTEM, "crisis.alert_escalated", target_type="crisis_alert", target_id=alert.id,
               workspace_id=workspace.id, before={"level": before}, after={"level": alert.level, "why": alert.why})
        rooms.on_alert_changed(session, alert, "escalate")
    else:
        rooms.on_alert_changed(session, alert, "update")
    return alert


def _reconcile(session: Session, workspace: Workspace, monitor: CrisisMonitor) -> list[CrisisAlert]:
    """After a rebuild: the database's open alert follows what the fresh detectors see."""
    changed: list[CrisisAlert] = []
    episodes = monitor.episodes.open_episodes()
    alert = open_alert(session, workspace.id)
    if alert is not None and not episodes:
        alert.closed_at = alert.updated_at = utcnow()
        alert.why = "calm again (found calm when crisis detection restarted)"
        record(session, SYSTEM, "crisis.alert_closed", target_type="crisis_alert", target_id=alert.id,
               workspace_id=workspace.id, after={"why": alert.why})
        changed.append(alert)
    for episode in episodes:
        found = apply_event(session, workspace, EpisodeEvent(EventKind.open, episode.last_event_at, episode))
        if found is not None:
            changed.append(found)
    return changed


def _lock_workspace(session: Session, workspace_id: int) -> Workspace | None:
    statement = select(Workspace).where(Workspace.id == workspace_id)
    if session.get_bind().dialect.name == "postgresql":
        # One scan per workspace writes at a time. NO KEY UPDATE: it does not wait for the
        # ingest transactions that hold the row's key share (their posts' foreign keys).
        statement = statement.with_for_update(key_share=True)
    return session.scalar(statement)


def scan(session: Session, workspace_id: int, *, now: datetime | None = None,
         reader: Session | None = None, peaks: bool = True, upto: int | None = None) -> list[CrisisAlert]:
    """Feed new posts (and, with `now`, the wall clock) to the workspace's detectors; write alerts.

    ``reader``: a session to read the posts with (on SQLite a read-only one, so that the
    feeding does not hold the write lock); ``session`` is touched only when there is something
    to write. ``peaks=False``: an open alert's peak figures are left for a later scan when no
    episode event needs writing (scans beside an import sync them at its end). ``upto``: feed
    the posts up to this id only (what one commit of an import stored). Returns the alerts that
    changed. The caller commits; if that or the writing here fails, it calls `forget` (the
    detectors have seen posts whose events were not stored).
    """
    reader = reader or session
    found = reader.scalar(select(Workspace).where(Workspace.id == workspace_id))
    if found is None:
        return []
    settings = detector_settings(found)
    brand = found.name
    key = (str(session.get_bind().engine.url), workspace_id)
    changed: list[CrisisAlert] = []
    with _LOCK:
        state = _STATES.get(key)
        top = reader.scalar(select(func.max(Post.id)).where(Post.workspace_id == workspace_id)) or 0
        events: list[EpisodeEvent] = []
        rebuilt = state is None or state.settings != settings or state.watermark > top
        if state is None or rebuilt:
            state = _rebuild(reader, workspace_id, brand, settings)
            _STATES[key] = state
        else:
            events.extend(_feed(reader, workspace_id, brand, state, upto=upto))
        if now is not None and now.timestamp() > state.monitor.now:
            events.extend(state.monitor.tick(now.timestamp()))
        if not (rebuilt or events or (peaks and state.monitor.episodes.open_episodes())):
            return changed  # nothing to write
        workspace = _lock_workspace(session, workspace_id)
        if workspace is None:
            return changed
        if rebuilt:
            changed.extend(_reconcile(session, workspace, state.monitor))
        for episode_event in events:
            alert = apply_event(session, workspace, episode_event)
            if alert is not None and alert not in changed:
                changed.append(alert)
        _sync_peaks(session, workspace_id, state.monitor)
    return changed


def _sync_peaks(session: Session, workspace_id: int, monitor: CrisisMonitor) -> None:
    """Between announcements an episode still grows: keep the open alert's peak figures current."""
    episodes = monitor.episodes.open_episodes()
    if not episodes:
        return
    alert = open_alert(session, workspace_id)
    if alert is None:
        return
    episode = episodes[-1]
    if episode.peak_negative_hour > (alert.peak_negative_hour or 0):
        alert.peak_negative_hour = episode.peak_negative_hour
    if episode.peak_z > (alert.peak_z or 0.0):
        alert.peak_z = float(episode.peak_z)


# -- delivery --------------------------------------------------------------------------------

LEVEL_WORDS = {"watch": "Watch", "warning": "Warning", "crisis": "CRISIS"}


def alert_text(alert: CrisisAlert, brand: str) -> str:
    """The one message an alert sends: level, brand, topic, why, and where to look."""
    link = f"{get_settings().base_url.rstrip('/')}/crisis"
    example = f" Example: \u201c{alert.examples[0][:160]}\u201d" if alert.examples else ""
    return (f"{LEVEL_WORDS.get(alert.level, alert.level)}: {brand}: {alert.topic or 'negative volume'}. "
            f"{alert.why}.{example} {link}")


def crisis_team_emails(session: Session, workspace: Workspace) -> list[str]:
    """The crisis team's addresses: active crisis-role users plus `settings["crisis_emails"]`."""
    emails = set(session.scalars(
        select(User.email).join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id, Membership.role == Role.crisis.value,
               User.is_active.is_(True))))
    extra = (workspace.settings or {}).get("crisis_emails") or []
    emails |= {str(e).strip().lower() for e in extra if str(e).strip()}
    return sorted(emails)


@dataclass(slots=True)
class DeliveryReport:
    """What one delivery pass sent."""

    emails: int = 0
    webhooks: int = 0
    failures: list[str] = field(default_factory=list)


def _claim(session: Session, alert_id: int) -> CrisisAlert | None:
    statement = select(CrisisAlert).where(CrisisAlert.id == alert_id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalar(statement)


def delivery_horizon() -> timedelta:
    """An alert whose latest posts are older than this (an imported archive, a long backfill) is
    recorded and shown in the app, but not sent: nobody is paged about the past
    (``VENTANILLA_CRISIS_DELIVERY_HORIZON_HOURS``, default 24)."""
    return timedelta(hours=get_settings().crisis_delivery_horizon_hours)


def is_historic(alert: CrisisAlert, now: datetime | None = None) -> bool:
    """Whether the alert's latest posts are older than the `delivery_horizon` (it is not sent)."""
    return alert.updated_at < (now or utcnow()) - delivery_horizon()


def deliver_pending(engine: Engine | None = None, *, workspace_id: int | None = None) -> DeliveryReport:
    """Send each open alert's current level once by e-mail and once to the webhook.

    The alert row is locked while sending and stamped in the same transaction, so a level is
    never sent twice; a failed send is retried on the next pass. Historic alerts (`is_historic`)
    are not sent; one whose episode reaches the present is sent at the level it has then.
    """
    from ventanilla.sla.alerts import post_webhook, send_email

    settings = get_settings()
    factory = session_factory(engine)
    report = DeliveryReport()
    # What looks due is read first without the write lock (on SQLite it would wait for ingest);
    # each send then claims its alert and checks again.
    due: list[tuple[int, str]] = []
    with session_factory(engine, readonly=True)() as session:
        statement = (select(CrisisAlert.id, CrisisAlert.level, CrisisAlert.delivered_email_at,
                            CrisisAlert.delivered_webhook_at, Workspace.settings)
                     .join(Workspace, Workspace.id == CrisisAlert.workspace_id)
                     .where(CrisisAlert.closed_at.is_(None), CrisisAlert.updated_at >= utcnow() - delivery_horizon())
                     .order_by(CrisisAlert.id))
        if workspace_id is not None:
            statement = statement.where(CrisisAlert.workspace_id == workspace_id)
        for alert_id, level, by_email, by_webhook, workspace_settings in session.execute(statement):
            if settings.smtp_host and level not in (by_email or {}):
                due.append((alert_id, "email"))
            if (workspace_settings or {}).get("crisis_webhook_url") and level not in (by_webhook or {}):
                due.append((alert_id, "webhook"))
    for alert_id, channel in due:
        with factory() as session:
            try:
                alert = _claim(session, alert_id)
                if alert is None or alert.closed_at is not None or is_historic(alert):
                    continue
                column = "delivered_email_at" if channel == "email" else "delivered_webhook_at"
                done: dict[str, str] = dict(getattr(alert, column) or {})
                if alert.level in done:
                    continue
                workspace = session.get(Workspace, alert.workspace_id)
                if workspace is None:
                    continue
                text = alert_text(alert, workspace.name)
                if channel == "email":
                    if not settings.smtp_host:
                        continue
                    emails = crisis_team_emails(session, workspace)
                    if not emails:
                        continue
                    send_email(settings, emails, f"[ventanilla] {text.split('. ')[0]}", text)
                    report.emails += 1
                else:
                    url = (workspace.settings or {}).get("crisis_webhook_url")
                    if not url:
                        continue
                    post_webhook(str(url), text, timeout=settings.smtp_timeout)
                    report.webhooks += 1
                done[alert.level] = utcnow().isoformat()
                setattr(alert, column, done)
                record(session, SYSTEM, f"crisis.alert_delivered_{channel}", target_type="crisis_alert",
                       target_id=alert.id, workspace_id=alert.workspace_id, after={"level": alert.level})
                session.commit()
            except (OSError, smtplib.SMTPException) as exc:
                session.rollback()
                log.warning("crisis alert %s: %s not delivered (%s); will retry", alert_id, channel, exc)
                report.failures.append(f"{channel}:{alert_id}")
    return report


# -- tasks and event handlers ----------------------------------------------------------------


@task(SCAN)
def scan_task(session: Session, payload: dict[str, Any]) -> None:
    """Scan one workspace's new posts, commit the alerts, then deliver new levels."""
    workspace_id = int(payload["workspace_id"])
    now = datetime.fromisoformat(payload["now"]) if payload.get("now") else None
    engine = session.get_bind().engine
    # On SQLite a writing session holds the write lock from its first statement: the posts are
    # read in a read-only one, so that ingest goes on writing meanwhile.
    reader = session_factory(engine, readonly=True)() if engine.dialect.name == "sqlite" else None
    try:
        scan(session, workspace_id, now=now, reader=reader, peaks=payload.get("peaks", True),
             upto=payload.get("upto"))
        session.commit()
    except BaseException:
        forget(session, workspace_id)
        raise
    finally:
        if reader is not None:
            reader.close()
    if payload.get("deliver", True):
        deliver_pending(session.get_bind().engine, workspace_id=workspace_id)


@task(TICK)
def tick_task(session: Session, payload: dict[str, Any]) -> None:
    """Re-assess every workspace on the wall clock (closes alerts of brands that went quiet)."""
    now = utcnow()
    for workspace_id in list(session.scalars(select(Workspace.id).order_by(Workspace.id))):
        try:
            scan(session, workspace_id, now=now)
            session.commit()
        except BaseException:
            forget(session, workspace_id)
            raise
    if payload.get("deliver", True):
        deliver_pending(session.get_bind().engine)


def _workspaces_of(session: Session, case_ids: Iterable[int]) -> set[int]:
    from ventanilla.cases.models import Case
    from ventanilla.cases.service import known_workspaces

    known = known_workspaces(session)
    found: set[int] = set()
    ids = []
    for case_id in case_ids:
        workspace_id = known.get(case_id)
        if workspace_id is None:
            ids.append(case_id)
        else:
            found.add(workspace_id)
    for start in range(0, len(ids), 500):
        found.update(session.scalars(select(Case.workspace_id).where(Case.id.in_(ids[start:start + 500])).distinct()))
    return found


class _ScansBehind:
    """A forked process that runs the crisis scans an import's commits ask for, beside the
    import on a second core, each with the posts that commit stored (as scanning after each
    commit would); `close` waits for all of them and takes the process's detectors back."""

    def __init__(self, workspace_ids: Iterable[int]) -> None:
        import multiprocessing

        # The detectors are brought up to date here first, and the child inherits them: its
        # scans then feed each new chunk as ours would (none has to rebuild, which announces
        # nothing).
        self._asked: set[int] = set(workspace_ids)
        for workspace_id in sorted(self._asked):
            _scan_now(workspace_id)
        self._conn, child_conn = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("fork").Process(
            target=_scans_child, args=(child_conn, os.getpid(), sorted(self._asked)), name="crisis-scans-behind",
            daemon=True)
        self._process.start()
        child_conn.close()

    def ask(self, workspace_ids: Iterable[int], upto: int | None) -> None:
        ids = sorted(set(workspace_ids))
        if not ids:
            return
        self._asked.update(ids)
        with suppress(OSError):  # the child is gone: `close` scans here instead
            self._conn.send((ids, upto))

    def close(self) -> None:
        states: dict[tuple[str, int], LiveState] | None = None
        try:
            self._conn.send(None)
            reply = self._conn.recv()
            if isinstance(reply, tuple) and reply[0] == "done":
                states = reply[1]
        except (OSError, EOFError):
            states = None
        self._process.join()
        self._conn.close()
        if states is not None:
            with _LOCK:  # the child's detectors saw the import's posts; ours did not
                for key in [k for k in _STATES if k[1] in self._asked]:
                    del _STATES[key]
                _STATES.update(states)
            return
        # The child died: our detectors are as they were before the import, so scanning here
        # feeds every post it stored (alerts the child wrote are found again by episode and
        # levels already sent are not sent twice).
        log.warning("the crisis scans beside the import stopped (exit code %s); scanning here",
                    self._process.exitcode)
        for workspace_id in sorted(self._asked):
            _scan_now(workspace_id)


def _scans_child(conn: Any, parent: int, workspace_ids: list[int]) -> None:
    """The forked process: one scan per request, in order; at the end one more per workspace to
    sync the open alert's peak figures, then its detectors go back to the parent."""
    global _LOCK
    from ventanilla import db
    from ventanilla.workers.helpers import ignore_interrupts

    ignore_interrupts()
    _LOCK = threading.Lock()  # another thread of the parent may have held it at the fork
    for engine in db._engines.values():  # the parent's pooled connections stay the parent's
        engine.dispose(close=False)
    db._engines.clear()
    db.poll_write_lock()  # slip alerts in between the import's transactions (SQLite)
    scanned: set[int] = set()
    ours = set(workspace_ids)  # the detectors the parent brought up to date for us
    while True:
        while not conn.poll(1.0):
            if os.getppid() != parent:  # the importer was killed: nobody will ask or wait
                os._exit(0)
        message = conn.recv()
        if message is None:
            break
        ids, upto = message
        for workspace_id in ids:
            # Until the import ends a scan writes only episode events (on SQLite it waits for
            # the import's write lock to do so); the peak figures are synced once at the end.
            _scan_now(workspace_id, peaks=False, upto=upto)
        scanned.update(ids)
    for workspace_id in sorted(scanned):
        _scan_now(workspace_id)
    ours |= scanned
    conn.send(("done", {key: state for key, state in _STATES.items() if key[1] in ours}))
    conn.close()


_BEHIND: ContextVar[_ScansBehind | None] = ContextVar("crisis_scans_behind", default=None)


@contextmanager
def scans_behind(workspace_ids: Iterable[int] = ()) -> Iterator[None]:
    """While open, the in-process crisis scans that commits ask for run in a second process
    (coalesced per workspace) instead of after each commit; all of them have run when it closes.
    ``workspace_ids``: the workspaces the caller will write to (scanned here before the fork).

    For file imports: the scans' CPU no longer delays the next chunk. Not used with Celery (the
    workers scan), on one core, or when already open.
    """
    if get_settings().broker_url or (os.cpu_count() or 1) < 2 or _BEHIND.get() is not None:
        yield
        return
    try:
        behind = _ScansBehind(workspace_ids)
    except (OSError, ValueError):  # no fork on this platform, or no process to be had
        log.exception("cannot start the crisis scans beside the import; scanning after each commit")
        yield
        return
    token = _BEHIND.set(behind)
    try:
        yield
    finally:
        _BEHIND.reset(token)
        behind.close()


def _scan_now(workspace_id: int, *, peaks: bool = True, upto: int | None = None) -> None:
    payload: dict[str, Any] = {"workspace_id": workspace_id}
    if not peaks:
        payload["peaks"] = False
    if upto is not None:
        payload["upto"] = upto
    try:
        get_queue().enqueue(SCAN, payload)
    except Exception:  # never fail the ingest that already committed
        log.exception("crisis scan of workspace %s failed; the next one catches up", workspace_id)


def _after_commit(session: Session) -> None:
    pending: set[int] = session.info.pop("crisis_scan", set())
    session.info.pop("crisis_hooked", None)
    upto = session.info.pop(NEWEST_POST, None)
    behind = _BEHIND.get()
    if behind is not None:
        behind.ask(pending, upto)
        return
    for workspace_id in sorted(pending):
        _scan_now(workspace_id)


def schedule_scan(session: Session, workspace_ids: Iterable[int]) -> None:
    """Scan these workspaces once the session's transaction commits (not inside it)."""
    pending: set[int] = session.info.setdefault("crisis_scan", set())
    pending.update(workspace_ids)
    if pending and not session.info.get("crisis_hooked"):
        session.info["crisis_hooked"] = True
        event.listen(session, "after_commit", _after_commit, once=True)


@on("case.opened")
def case_opened(session: Session, *, case_ids: Sequence[int], **_: Any) -> None:
    """New posts opened cases: scan their workspace for crisis signals after the commit."""
    schedule_scan(session, _workspaces_of(session, case_ids))


@on("case.post_added")
def post_added(session: Session, *, case_ids: Sequence[int], **_: Any) -> None:
    """New posts joined cases: scan their workspace for crisis signals after the commit."""
    schedule_scan(session, _workspaces_of(session, case_ids))


@on("case.replied")
def case_replied(session: Session, *, case_id: int, reply_id: int, public: bool = True, **_: Any) -> None:
    """A reply sent while a crisis room is open goes on the room's timeline."""
    from ventanilla.crisis import room as rooms

    rooms.on_reply_sent(session, case_id=case_id, reply_id=reply_id, public=public)
