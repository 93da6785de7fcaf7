"""Crisis alerts and the crisis room, end to end on both engines: posts through the real pipeline
open one alert that escalates and closes, delivered once per level by e-mail (a real SMTP server)
and webhook (a real HTTP server); the room's members, statements with sign-offs, crisis mode
and post-mortem through the web app."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import Desk, deliver, free_port, incoming
from tests.integration.test_web import csrf_of, sign_in
from ventanilla.db import session_scope

T0 = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
HISTORY_HOURS = 30
BURST_START = T0 + timedelta(hours=HISTORY_HOURS, minutes=10)
HISTORY_TEXTS = [
    "Cobro duplicado en mi tarjeta y nadie me contesta",
    "El vuelo salió con retraso y nadie avisó, muy mal",
    "Me habéis cancelado el vuelo sin avisar, vergüenza",
]
BURST_TEXTS = [
    "Me habéis perdido la maleta en Barajas, una vergüenza total",
    "Otra maleta perdida en Barajas, nadie responde, fatal servicio",
    "Maleta perdida en Barajas y ni una disculpa, pésimo",
    "Llevo tres días sin mi maleta perdida en Barajas, exijo una solución",
    "Mi maleta perdida en Barajas sigue sin aparecer, indignante",
]


class Mailbox:
    """What the test SMTP server received: (recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for _to, m in self.messages]


@pytest.fixture
def smtp(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    from ventanilla.config import get_settings

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("VENTANILLA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VENTANILLA_SMTP_PORT", str(port))
    monkeypatch.setenv("VENTANILLA_SMTP_FROM", "ventanilla@brisa.test")
    get_settings.cache_clear()
    yield mailbox
    controller.stop()
    get_settings.cache_clear()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/crisis", received
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_detectors() -> Iterator[None]:
    # The detectors live in memory per database URL; PostgreSQL tests reuse one URL.
    from ventanilla.crisis.live import forget_state

    forget_state()
    yield
    forget_state()


@pytest.fixture(autouse=True)
def replayed_dates_count_as_live(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # These tests replay fixed dates (November 2026): with the default horizon their alerts would
    # be historic and never sent. The horizon itself is tested below with posts of today.
    from ventanilla.config import get_settings

    monkeypatch.setenv("VENTANILLA_CRISIS_DELIVERY_HORIZON_HOURS", str(24 * 365 * 100))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _settings(engine: Any, desk: Desk, **values: Any) -> None:
    from ventanilla.accounts.models import Workspace

    with session_scope(engine) as s:
        workspace = s.get(Workspace, desk.workspace_id)
        workspace.settings = {**(workspace.settings or {}), **values}


def _alerts(engine: Any) -> list[Any]:
    from ventanilla.crisis.models import CrisisAlert

    with session_scope(engine) as s:
        return list(s.scalars(select(CrisisAlert).order_by(CrisisAlert.id)))


def _history(engine: Any, desk: Desk, start: datetime = T0) -> None:
    """One negative post an hour for 30 hours: the detectors learn what usual looks like."""
    posts = [incoming(f"h{h}", HISTORY_TEXTS[h % len(HISTORY_TEXTS)], handle=f"usual{h}",
                      created_at=_iso(start + timedelta(hours=h, minutes=10))) for h in range(HISTORY_HOURS)]
    deliver(engine, desk.channel_id, posts)


def _burst(engine: Any, desk: Desk, first: int, last: int, start: datetime = T0) -> None:
    """Burst posts `first`..`last` (one a minute), delivered as one batch."""
    burst_start = start + (BURST_START - T0)
    posts = [incoming(f"b{i}", BURST_TEXTS[i % len(BURST_TEXTS)], handle=f"angry{i}", followers=100 + 1000 * i,
                      created_at=_iso(burst_start + timedelta(minutes=i))) for i in range(first, last + 1)]
    deliver(engine, desk.channel_id, posts)


def _grow_to_crisis(engine: Any, desk: Desk, start: datetime = T0) -> None:
    _history(engine, desk, start)
    _burst(engine, desk, 0, 3, start)
    _burst(engine, desk, 4, 4, start)
    _burst(engine, desk, 5, 12, start)


def _default_horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    from ventanilla.config import get_settings

    monkeypatch.delenv("VENTANILLA_CRISIS_DELIVERY_HORIZON_HOURS")
    get_settings.cache_clear()
    assert get_settings().crisis_delivery_horizon_hours == 24


def test_an_alert_on_an_imported_archive_is_recorded_without_paging_anybody(
        engine: Any, desk: Desk, smtp: Mailbox, webhook: tuple[str, list[dict[str, Any]]], client: TestClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _default_horizon(monkeypatch)
    url, hooks = webhook
    _settings(engine, desk, crisis_webhook_url=url)
    _grow_to_crisis(engine, desk)  # November's posts, read today
    [alert] = _alerts(engine)
    assert alert.level == "crisis" and alert.closed_at is None
    assert smtp.messages == [] and hooks == []
    assert alert.delivered_email_at == {} and alert.delivered_webhook_at == {}

    sign_in(client, "crisis")
    page = client.get("/crisis").text
    assert f'data-alert="{alert.id}"' in page and "data-historic" in page


def test_an_alert_on_todays_posts_is_sent(engine: Any, desk: Desk, smtp: Mailbox,
                                          webhook: tuple[str, list[dict[str, Any]]], client: TestClient,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ventanilla.db import utcnow

    _default_horizon(monkeypatch)
    url, hooks = webhook
    _settings(engine, desk, crisis_webhook_url=url)
    # The same story, its burst a few hours ago (the history before it, 30 hours long).
    start = utcnow().replace(minute=0, second=0, microsecond=0) - (BURST_START - T0) - timedelta(hours=3)
    _grow_to_crisis(engine, desk, start)
    [alert] = _alerts(engine)
    assert alert.level == "crisis"
    assert len(smtp.messages) == 3 and [h["text"].split(":")[0] for h in hooks] == ["Watch", "Warning", "CRISIS"]

    sign_in(client, "crisis")
    assert "data-historic" not in client.get("/crisis").text


def test_a_burst_opens_one_alert_that_escalates_is_delivered_once_per_level_and_closes(
        engine: Any, desk: Desk, smtp: Mailbox, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, hooks = webhook
    _settings(engine, desk, crisis_webhook_url=url)
    _history(engine, desk)
    assert _alerts(engine) == []

    _burst(engine, desk, 0, 3)
    [alert] = _alerts(engine)
    assert alert.level == "watch" and alert.closed_at is None
    assert "barajas" in alert.topic and "negative posts in the last hour" in alert.why
    assert alert.example_post_ids and "watch" in alert.delivered_email_at and "watch" in alert.delivered_webhook_at
    assert len(smtp.messages) == 1 and len(hooks) == 1
    recipients, first_mail = smtp.messages[0]
    assert recipients == ["crisis@brisa.test"] and "Watch" in str(first_mail["Subject"])
    assert hooks[0]["text"].startswith("Watch: Aerolínea Brisa:") and "/crisis" in hooks[0]["text"]

    _burst(engine, desk, 4, 4)
    [alert] = _alerts(engine)
    assert alert.level == "warning"
    _burst(engine, desk, 5, 12)
    [alert] = _alerts(engine)
    assert alert.level == "crisis"
    assert [lv["level"] for lv in alert.levels] == ["watch", "warning", "crisis"]
    assert len(smtp.messages) == 3 and len(hooks) == 3
    assert [h["text"].split(":")[0] for h in hooks] == ["Watch", "Warning", "CRISIS"]

    # More of the same: the alert grows but no level is announced twice.
    _burst(engine, desk, 13, 16)
    [alert] = _alerts(engine)
    assert alert.level == "crisis" and alert.peak_negative_hour >= 17
    assert len(smtp.messages) == 3 and len(hooks) == 3

    # Three quiet hours later the episode closes: still exactly one alert, now closed.
    deliver(engine, desk.channel_id, [incoming("calm", "Gracias por el vuelo, todo perfecto", handle="happy",
                                               created_at=_iso(BURST_START + timedelta(hours=3, minutes=20)))])
    [alert] = _alerts(engine)
    assert alert.closed_at is not None and alert.why.startswith("calm again")
    assert len(smtp.messages) == 3 and len(hooks) == 3
    with session_scope(engine) as s:
        from ventanilla.audit.models import AuditEvent

        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "crisis_alert")
                                 .order_by(AuditEvent.id)))
    assert actions.count("crisis.alert_opened") == 1 and actions.count("crisis.alert_escalated") == 2
    assert actions.count("crisis.alert_closed") == 1 and actions.count("crisis.alert_delivered_email") == 3


def test_a_restarted_detector_rebuilds_from_history_without_announcing_twice(
        engine: Any, desk: Desk, smtp: Mailbox) -> None:
    from ventanilla.crisis.live import forget_state

    _grow_to_crisis(engine, desk)
    assert len(smtp.messages) == 3
    forget_state()  # as if the worker restarted
    _burst(engine, desk, 13, 14)
    [alert] = _alerts(engine)
    assert alert.level == "crisis" and alert.closed_at is None
    assert len(smtp.messages) == 3

    # The periodic tick re-assesses on the wall clock: days later, the quiet brand's alert closes.
    from ventanilla.workers.queue import run_task

    run_task("crisis.tick", {})
    [alert] = _alerts(engine)
    assert alert.closed_at is not None and len(smtp.messages) == 3


def test_crisis_room_from_an_alert_to_its_post_mortem(
        engine: Any, desk: Desk, client: TestClient, smtp: Mailbox) -> None:
    from ventanilla.accounts.models import Workspace
    from ventanilla.crisis import room as rooms
    from ventanilla.crisis.models import CrisisEntry, CrisisPostmortem, CrisisRoom, CrisisStatement
    from ventanilla.events import publish

    _grow_to_crisis(engine, desk)
    [alert] = _alerts(engine)
    mails_before = len(smtp.messages)

    sign_in(client, "crisis")
    page = client.get("/crisis")
    assert page.status_code == 200 and f'data-alert="{alert.id}"' in page.text
    assert 'href="/crisis"' in page.text and "/crisis/banner" in page.text
    banner = client.get("/crisis/banner").text
    assert f'data-banner-alert="{alert.id}"' in banner and alert.topic in banner
    token = csrf_of(page.text)
    assert client.post("/crisis/rooms", data={"alert_id": str(alert.id)}).status_code == 403  # no CSRF token
    opened = client.post("/crisis/rooms", data={"csrf_token": token, "alert_id": str(alert.id)},
                         follow_redirects=False)
    assert opened.status_code == 303
    room_url = opened.headers["location"]
    room_id = int(room_url.rsplit("/", 1)[1])
    with session_scope(engine) as s:
        assert s.get(Workspace, desk.workspace_id).settings["crisis_mode"] is True
        room = s.get(CrisisRoom, room_id)
        assert room.alert_id == alert.id and room.state == "open" and alert.topic in room.title

    # Members by role: the crisis user is commander (opened it) and communications; the lead is legal.
    for user, role in (("crisis", "communications"), ("lead", "legal"), ("agent", "scribe")):
        response = client.post(f"/crisis/rooms/{room_id}/members", follow_redirects=False,
                               data={"csrf_token": token, "user_id": str(desk.users[user]), "role": role})
        assert response.status_code == 303 and "error" not in response.headers["location"]
    mails = smtp.messages[mails_before:]
    assert sorted(to[0] for to, _m in mails) == ["agent@brisa.test", "crisis@brisa.test", "lead@brisa.test"]
    assert all("crisis room" in str(m["Subject"]) for _to, m in mails)

    # The timeline gathered the alert and key posts; the scribe adds a decision; a reply sent shows up.
    client.post(f"/crisis/rooms/{room_id}/entries",
                data={"csrf_token": token, "kind": "decision", "text": "Pause promotional posts today"})
    with session_scope(engine) as s:
        publish(s, "case.replied", case_id=1, reply_id=424242, public=True, at=datetime.now(UTC))
    page = client.get(room_url).text
    assert 'data-kind="alert"' in page and 'data-kind="post"' in page and "Key post" in page
    assert 'data-kind="decision"' in page and "Pause promotional posts today" in page
    assert 'data-kind="reply"' in page and "Public reply sent on case #1" in page
    assert "Barajas" in page

    # A holding statement from the Spanish template, edited together (versions with who).
    client.post(f"/crisis/rooms/{room_id}/statements", data={"csrf_token": token, "language": "es"})
    with session_scope(engine) as s:
        [draft] = s.scalars(select(CrisisStatement).where(CrisisStatement.room_id == room_id))
        assert draft.version == 1 and "Aerolínea Brisa" in draft.text and alert.topic in draft.text
    client.post(f"/crisis/rooms/{room_id}/statements/es", data={
        "csrf_token": token, "base_version": "1", "text": draft.text + " Actualizaremos a las 18:00."})
    stale = client.post(f"/crisis/rooms/{room_id}/statements/es", data={
        "csrf_token": token, "base_version": "1", "text": "otra cosa"})
    assert "someone saved version 2" in stale.text
    with session_scope(engine) as s:
        statement = rooms.latest_statement(s, s.get(CrisisRoom, room_id), "es")
        assert statement.version == 2 and statement.text.endswith("18:00.")
        statement_id = statement.id

    # Sign-offs: communications signs; publishing now is refused and says who is missing.
    assert client.post(f"/crisis/statements/{statement_id}/signoff",
                       data={"csrf_token": token, "role": "communications"}).status_code == 200
    early = client.post(f"/crisis/statements/{statement_id}/publish", data={"csrf_token": token})
    assert "cannot publish yet: sign-off missing from legal" in early.text
    # Nobody signs in a role they do not hold, and an agent cannot sign at all.
    assert client.post(f"/crisis/statements/{statement_id}/signoff",
                       data={"csrf_token": token, "role": "legal"}).status_code == 403
    agent = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    sign_in(agent, "agent")
    agent_token = csrf_of(agent.get("/").text)
    assert agent.post(f"/crisis/statements/{statement_id}/signoff",
                      data={"csrf_token": agent_token, "role": "scribe"}).status_code == 403
    assert agent.get("/crisis").status_code == 403 and agent.get(room_url).status_code == 403
    lead = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    sign_in(lead, "lead")
    lead_page = lead.get("/crisis/banner").text
    assert f'data-banner-room="{room_id}"' in lead_page  # in-app notice until the lead opens the room
    lead_token = csrf_of(lead.get(room_url).text)
    assert f'data-banner-room="{room_id}"' not in lead.get("/crisis/banner").text
    assert lead.post(f"/crisis/statements/{statement_id}/signoff",
                     data={"csrf_token": lead_token, "role": "legal"}).status_code == 200
    published = client.post(f"/crisis/statements/{statement_id}/publish", data={"csrf_token": token})
    assert published.status_code == 200 and "data-error" not in published.text
    with session_scope(engine) as s:
        assert s.get(CrisisStatement, statement_id).state == "published"

    # Closing needs the post-mortem.
    refused = client.post(f"/crisis/rooms/{room_id}/close", data={"csrf_token": token})
    assert "write the post-mortem" in refused.text
    with session_scope(engine) as s:
        assert s.get(CrisisRoom, room_id).state == "open"
        assert s.get(Workspace, desk.workspace_id).settings["crisis_mode"] is True
    client.post(f"/crisis/rooms/{room_id}/postmortem", data={
        "csrf_token": token, "went_well": "Statement out in 40 minutes",
        "went_badly": "Nobody on call at the airport", "actions": "On-call rota for Barajas\n\nBaggage status page\n"})
    closed = client.post(f"/crisis/rooms/{room_id}/close", data={"csrf_token": token})
    assert closed.status_code == 200 and 'data-room-state="closed"' in closed.text
    with session_scope(engine) as s:
        room = s.get(CrisisRoom, room_id)
        assert room.state == "closed" and room.closed_at is not None
        assert s.get(Workspace, desk.workspace_id).settings["crisis_mode"] is False
        postmortem = s.scalar(select(CrisisPostmortem).where(CrisisPostmortem.room_id == room_id))
        assert [a["text"] for a in postmortem.actions] == ["On-call rota for Barajas", "Baggage status page"]
        if not rooms.backlog_available():  # no improvement backlog in this checkout: kept here
            assert all(a["backlog_id"] is None for a in postmortem.actions)
        else:
            from ventanilla.improvements.models import Improvement

            ids = [a["backlog_id"] for a in postmortem.actions]
            assert all(ids)
            titles = [s.get(Improvement, i).title for i in ids]
            assert titles == ["On-call rota for Barajas", "Baggage status page"]
            assert all(s.get(Improvement, i).workspace_id == desk.workspace_id for i in ids)
        curve = postmortem.volume_curve
        burst_hour = BURST_START.replace(minute=0).isoformat()
        assert next(p["negative"] for p in curve if p["hour"] == burst_hour) >= 13
        kinds = set(s.scalars(select(CrisisEntry.kind).where(CrisisEntry.room_id == room_id)))
        assert kinds >= {"alert", "post", "decision", "reply", "status"}
        assert s.scalar(select(func.count()).select_from(CrisisRoom).where(CrisisRoom.state == "open")) == 0


def test_rooms_by_hand_and_who_may_enter(engine: Any, desk: Desk, client: TestClient) -> None:
    sign_in(client, "analyst")
    assert client.get("/crisis").status_code == 403
    assert 'href="/crisis"' not in client.get("/").text
    client.cookies.clear()
    sign_in(client, "admin")
    token = csrf_of(client.get("/crisis").text)
    assert "No alerts" in client.get("/crisis").text
    empty = client.post("/crisis/rooms", data={"csrf_token": token, "title": "  "})
    assert "give the room a title" in empty.text
    opened = client.post("/crisis/rooms", data={"csrf_token": token, "title": "Rumour <b>on TikTok</b>"},
                         follow_redirects=False)
    page = client.get(opened.headers["location"]).text
    assert "Rumour &lt;b&gt;on TikTok&lt;/b&gt;" in page and 'data-role="commander"' in page
    assert client.get("/crisis/rooms/999").status_code == 404
