"""SLA policies on real cases: business-hour clocks, pauses, alerts (once), escalation, delivery by
e-mail and webhook, and the published response promise with its kept rate. Both engines."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from tests.conftest import Desk, deliver, free_port, incoming
from tests.integration.test_web import csrf_of, sign_in
from ventanilla.audit.service import SYSTEM, Actor
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.db import session_factory, session_scope
from ventanilla.events import publish
from ventanilla.ingest.models import Post
from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.models import CaseSla, SlaAlert, SlaAlertRecipient, case_sla_table
from ventanilla.sla.service import PolicyInput, add_policy, recompute_open_cases, set_calendar, set_webhook_url

MADRID = ZoneInfo("Europe/Madrid")
# Monday 7 and Tuesday 8 December 2026 are holidays at this desk.
HOLIDAYS = [date(2026, 12, 7), date(2026, 12, 8)]


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=MADRID)


@pytest.fixture
def sla_desk(engine: Engine, desk: Desk, monkeypatch: pytest.MonkeyPatch) -> Desk:
    """The desk with office hours in Madrid and two holidays; triage off so every case is P3."""
    from ventanilla.config import get_settings

    monkeypatch.setenv("VENTANILLA_TRIAGE_ON_INGEST", "false")
    get_settings.cache_clear()
    with session_scope(engine) as s:
        set_calendar(s, workspace_id=desk.workspace_id, actor=SYSTEM,
                     calendar=BusinessCalendar.office_hours("Europe/Madrid", holidays=HOLIDAYS))
    return desk


def policy(engine: Engine, desk: Desk, **minutes: int | None) -> int:
    with session_scope(engine) as s:
        return add_policy(s, workspace_id=desk.workspace_id, actor=SYSTEM,
                          data=PolicyInput(name="Standard", **minutes)).id


def open_case(engine: Engine, desk: Desk, external_id: str, at: datetime) -> int:
    """A customer's post at `at` opens a case (through ingest, as in production)."""
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with time_machine.travel(at + timedelta(seconds=5), tick=False):
        deliver(engine, desk.channel_id, [incoming(external_id, "Mi maleta no ha llegado", handle=external_id,
                                                   created_at=stamp)])
    with session_scope(engine) as s:
        case_id = s.scalar(select(Post.case_id).where(Post.external_id == external_id))
        assert case_id is not None
        return case_id


def clock(engine: Engine, case_id: int) -> CaseSla:
    with session_scope(engine) as s:
        row = s.scalar(select(CaseSla).where(CaseSla.case_id == case_id))
        assert row is not None
        s.expunge(row)
        return row


def recompute(engine: Engine, at: datetime) -> Any:
    with time_machine.travel(at, tick=False), session_scope(engine) as s:
        return recompute_open_cases(s, at)


def alerts(engine: Engine) -> list[tuple[int, str, str]]:
    with session_scope(engine) as s:
        return [(r[0], r[1], r[2]) for r in s.execute(select(SlaAlert.case_id, SlaAlert.target, SlaAlert.kind)
                                                      .order_by(SlaAlert.case_id, SlaAlert.target,
                                                                SlaAlert.kind)).all()]


def set_status(engine: Engine, case_id: int, status: CaseStatus, at: datetime) -> None:
    from ventanilla.cases.service import set_status as change

    with time_machine.travel(at, tick=False), session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        change(s, case=case, status=status, actor=Actor("agent@brisa.test"))


def reply(engine: Engine, case_id: int, at: datetime, public: bool = True) -> None:
    with time_machine.travel(at, tick=False), session_scope(engine) as s:
        publish(s, "case.replied", case_id=case_id, reply_id=0, public=public, at=at)


def test_due_times_follow_business_hours_weekends_and_holidays(engine: Engine, sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=60, resolution_minutes=18 * 60)
    # Friday 17:30: 30 minutes left that day; Saturday, Sunday and two holidays closed.
    case_id = open_case(engine, sla_desk, "fri", madrid(2026, 12, 4, 17, 30))
    row = clock(engine, case_id)
    assert row.first_response_due == madrid(2026, 12, 9, 9, 30)
    assert row.resolution_due == madrid(2026, 12, 10, 17, 30)  # 0.5 h Fri + 9 h Wed + 8.5 h Thu
    assert row.first_response_state == "on_track"

    assert recompute(engine, madrid(2026, 12, 8, 12, 0)).alerts == []  # a holiday: the clock stands still
    assert clock(engine, case_id).first_response_state == "on_track"
    # Nothing can change before Wednesday 09:15 (45 of 60 minutes): later passes do not even read it.
    assert clock(engine, case_id).next_check == madrid(2026, 12, 9, 9, 15).timestamp()
    assert recompute(engine, madrid(2026, 12, 9, 9, 0)).cases == 0
    recompute(engine, madrid(2026, 12, 9, 9, 14))  # 44 of 60 minutes
    assert clock(engine, case_id).first_response_state == "on_track"
    recompute(engine, madrid(2026, 12, 9, 9, 15))  # 45 of 60: at risk
    assert clock(engine, case_id).first_response_state == "at_risk"
    recompute(engine, madrid(2026, 12, 9, 9, 31))
    after = clock(engine, case_id)
    assert after.first_response_state == "breached" and after.resolution_state == "on_track"
    assert alerts(engine) == [(case_id, "first_response", "at_risk"), (case_id, "first_response", "breached")]


def test_a_new_calendar_moves_the_running_clocks(engine: Engine, sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=60)
    case_id = open_case(engine, sla_desk, "cal", madrid(2026, 12, 4, 17, 30))
    assert clock(engine, case_id).first_response_due == madrid(2026, 12, 9, 9, 30)
    with time_machine.travel(madrid(2026, 12, 4, 17, 40), tick=False), session_scope(engine) as s:
        set_calendar(s, workspace_id=sla_desk.workspace_id, actor=SYSTEM,
                     calendar=BusinessCalendar.always_open("Europe/Madrid"))
    assert clock(engine, case_id).first_response_due == madrid(2026, 12, 4, 18, 30)


def test_waiting_on_the_customer_pauses_the_clock(engine: Engine, sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=4 * 60)
    case_id = open_case(engine, sla_desk, "mon", madrid(2026, 11, 23, 10, 0))
    assert clock(engine, case_id).first_response_due == madrid(2026, 11, 23, 14, 0)

    set_status(engine, case_id, CaseStatus.waiting, madrid(2026, 11, 23, 11, 0))
    recompute(engine, madrid(2026, 11, 23, 16, 0))
    paused = clock(engine, case_id)
    assert paused.first_response_state == "paused" and paused.first_response_due is None
    assert alerts(engine) == []  # past the original due time, but the clock was stopped

    set_status(engine, case_id, CaseStatus.open, madrid(2026, 11, 23, 15, 0))
    resumed = clock(engine, case_id)
    assert resumed.first_response_paused == 4 * 3600
    assert resumed.first_response_due == madrid(2026, 11, 23, 18, 0)
    assert resumed.paused_since is None and resumed.first_response_state == "on_track"

    reply(engine, case_id, madrid(2026, 11, 23, 17, 0), public=False)  # a private reply counts too
    done = clock(engine, case_id)
    assert done.first_response_state == "met" and done.first_responded_at == madrid(2026, 11, 23, 17, 0)


def test_a_reply_meets_the_first_response_and_the_customer_restarts_the_next(engine: Engine,
                                                                               sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=60, next_response_minutes=120)
    case_id = open_case(engine, sla_desk, "nx", madrid(2026, 11, 24, 10, 0))
    reply(engine, case_id, madrid(2026, 11, 24, 10, 30))
    assert clock(engine, case_id).next_response_started_at is None  # nobody waits on us yet
    # The customer writes again: the next-response clock starts from their post.
    with time_machine.travel(madrid(2026, 11, 24, 12, 0, 5), tick=False):
        deliver(engine, sla_desk.channel_id, [incoming("nx-2", "¿Alguna novedad?", handle="nx",
                                                       created_at="2026-11-24T11:00:00Z")])
    row = clock(engine, case_id)
    assert row.next_response_started_at == madrid(2026, 11, 24, 12, 0)
    assert row.next_response_due == madrid(2026, 11, 24, 14, 0)
    reply(engine, case_id, madrid(2026, 11, 24, 15, 0))
    assert clock(engine, case_id).next_response_state == "breached"


def test_alerts_fire_exactly_once_even_when_recomputed_twice_or_concurrently(engine: Engine,
                                                                              sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=60)
    late = [open_case(engine, sla_desk, f"late{i}", madrid(2026, 11, 25, 9, 0)) for i in range(3)]
    risky = [open_case(engine, sla_desk, f"risky{i}", madrid(2026, 11, 25, 10, 10)) for i in range(3)]
    now = madrid(2026, 11, 25, 11, 0)

    first = recompute(engine, now)
    assert len(first.alerts) == 6
    assert recompute(engine, now).alerts == []  # a second pass finds nothing new

    # Two workers at once, on a new round of cases.
    later = [open_case(engine, sla_desk, f"later{i}", madrid(2026, 11, 25, 11, 0)) for i in range(4)]
    fresh = open_case(engine, sla_desk, "fresh", madrid(2026, 11, 25, 12, 0))
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)
    at = madrid(2026, 11, 25, 12, 5)

    def worker() -> None:
        try:
            barrier.wait()
            with session_scope(engine) as s:
                results.append(recompute_open_cases(s, at))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    # One worker raised them (4 new cases breached, 3 at-risk ones now breached), the other none.
    assert sorted(len(r.alerts) for r in results) == [0, 7]

    got = alerts(engine)
    assert len(got) == len(set(got))
    expected = {(c, "first_response", "breached") for c in late + risky + later}
    expected |= {(c, "first_response", "at_risk") for c in risky}
    assert set(got) == expected
    assert fresh not in {c for c, _, _ in got}
    with session_scope(engine) as s:
        audited = s.scalar(select(func.count()).select_from(SlaAlert)) or 0
        from ventanilla.audit.models import AuditEvent

        events = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action.in_(("case.sla_at_risk", "case.sla_breached")))) or 0
    assert events == audited == len(expected)


def test_an_alert_already_stored_is_not_raised_again_even_if_the_clock_forgot_it(engine: Engine,
                                                                                 sla_desk: Desk) -> None:
    # The UNIQUE (case, target, kind) is the last guard: a clock whose "alerted" stamps were lost
    # (a restore, a hand edit) gets them back, and no second alert, recipient or audit event.
    policy(engine, sla_desk, first_response_minutes=60)
    late = [open_case(engine, sla_desk, f"forgot{i}", madrid(2026, 11, 25, 9, 0)) for i in range(3)]
    now = madrid(2026, 11, 25, 11, 0)
    assert len(recompute(engine, now).alerts) == 3
    with session_scope(engine) as s:
        before = (s.scalar(select(func.count()).select_from(SlaAlertRecipient)),
                  s.scalar(select(func.count()).select_from(SlaAlert)))
        s.execute(update(case_sla_table).values(first_response_breached_alerted_at=None, escalated_at=None))
    with session_scope(engine) as s:  # `sla recompute --all`: every running clock is read
        again = recompute_open_cases(s, now + timedelta(minutes=1), full=True)
    assert again.alerts == [] and again.cases == 3
    assert sorted(c for c, _, _ in alerts(engine)) == sorted(late)
    with session_scope(engine) as s:
        assert (s.scalar(select(func.count()).select_from(SlaAlertRecipient)),
                s.scalar(select(func.count()).select_from(SlaAlert))) == before
        stamps = s.execute(select(CaseSla.first_response_breached_alerted_at)
                           .where(CaseSla.case_id.in_(late))).scalars().all()
    assert len(stamps) == 3 and all(stamp is not None for stamp in stamps)


def test_a_breach_escalates_to_the_team_lead_or_the_workspace_leads(engine: Engine, sla_desk: Desk) -> None:
    from ventanilla.accounts.models import Role, Workspace
    from ventanilla.accounts.service import create_team, create_user
    from ventanilla.sla.alerts import alerts_for

    policy(engine, sla_desk, first_response_minutes=60)
    with session_scope(engine) as s:
        workspace = s.get(Workspace, sla_desk.workspace_id)
        assert workspace is not None
        boss = create_user(s, email="boss@brisa.test", name="Team Boss", password="x" * 12,
                           workspace=workspace, role=Role.lead).id
        team = create_team(s, workspace=workspace, name="Equipaje", member_ids=[sla_desk.users["agent"]],
                           lead_user_id=boss).id
    teamed = open_case(engine, sla_desk, "team", madrid(2026, 11, 26, 9, 0))
    loose = open_case(engine, sla_desk, "loose", madrid(2026, 11, 26, 9, 0))
    with session_scope(engine) as s:
        s.execute(update(Case).where(Case.id == teamed).values(team_id=team, assignee_id=sla_desk.users["agent"]))

    result = recompute(engine, madrid(2026, 11, 26, 10, 30))
    assert result.escalated_cases == sorted([teamed, loose])
    leads = sorted([sla_desk.users["lead"], boss])
    assert clock(engine, teamed).escalated_to == [boss]
    assert sorted(clock(engine, loose).escalated_to or []) == leads
    with session_scope(engine) as s:
        by_case = dict(s.execute(select(SlaAlert.case_id, SlaAlert.escalated_to)
                                 .where(SlaAlert.kind == "breached")).all())
        assert by_case[teamed] == [boss]
        # The assignee and the team lead see it in the app; the other lead does not.
        recipients = set(s.scalars(select(SlaAlertRecipient.user_id).join(SlaAlert)
                                   .where(SlaAlert.case_id == teamed)))
        assert recipients == {sla_desk.users["agent"], boss}
        seen_by_boss = alerts_for(s, user_id=boss, workspace_id=sla_desk.workspace_id)
        assert sorted(a.case_id for a in seen_by_boss) == sorted([teamed, loose])


# --- delivery -----------------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf8", "replace")))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    from ventanilla.config import get_settings

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("VENTANILLA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VENTANILLA_SMTP_PORT", str(port))
    monkeypatch.setenv("VENTANILLA_SMTP_FROM", "sla@brisa.test")
    get_settings.cache_clear()
    yield box
    controller.stop()
    get_settings.cache_clear()


class Hook:
    """A local incoming-webhook endpoint (like Slack's); fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.failures = failures
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failures:
                    hook.failures -= 1
                    self.send_response(500)
                else:
                    hook.bodies.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/abc"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_alerts_go_by_email_and_webhook_once_each(engine: Engine, sla_desk: Desk, mailbox: Mailbox) -> None:
    from ventanilla.sla.alerts import deliver_pending_alerts

    hook = Hook(failures=1)
    with session_scope(engine) as s:
        set_webhook_url(s, workspace_id=sla_desk.workspace_id, url=hook.url, actor=SYSTEM)
    policy(engine, sla_desk, first_response_minutes=60)
    case_id = open_case(engine, sla_desk, "mail", madrid(2026, 11, 27, 9, 0))
    now = madrid(2026, 11, 27, 10, 30)
    assert len(recompute(engine, now).alerts) == 1  # straight to breached

    with time_machine.travel(now, tick=False):
        first = deliver_pending_alerts(engine, now=now)
        assert (first.emails, first.webhooks) == (1, 0)
        assert [f.split(":")[0] for f in first.failures] == ["webhook"]  # the hook failed once
        second = deliver_pending_alerts(engine, now=now)  # retry: the webhook now, no second e-mail
        assert (second.emails, second.webhooks) == (0, 1)
        third = deliver_pending_alerts(engine, now=now)
        assert (third.emails, third.webhooks) == (0, 0)

    assert len(mailbox.messages) == 1
    recipients, content = mailbox.messages[0]
    assert recipients == ["lead@brisa.test"]  # unassigned: the workspace's lead
    assert f"case #{case_id}" in content and "first response" in content and "Lead Person" in content
    assert len(hook.bodies) == 1 and set(hook.bodies[0]) == {"text"}
    assert f"case #{case_id}" in hook.bodies[0]["text"] and "breached" in hook.bodies[0]["text"]
    with session_scope(engine) as s:
        alert = s.scalar(select(SlaAlert))
        assert alert is not None and alert.delivered_email_at and alert.delivered_webhook_at


def test_the_recompute_task_and_the_cli(engine: Engine, sla_desk: Desk) -> None:
    from typer.testing import CliRunner

    from ventanilla.cli import app
    from ventanilla.workers.queue import run_task

    runner = CliRunner()
    added = runner.invoke(app, ["sla", "policies", "add", "Urgent on X", "-w", sla_desk.slug, "--priority", "3",
                                "--channel", "x-brisa", "--first-response", "30", "--resolution", "480"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["sla", "policies", "list", "-w", sla_desk.slug, "--json"])
    assert json.loads(listed.stdout)[0]["first_response_minutes"] == 30
    case_id = open_case(engine, sla_desk, "task", madrid(2026, 11, 30, 9, 0))
    with time_machine.travel(madrid(2026, 11, 30, 9, 25), tick=False):
        run_task("sla.recompute", {})
    assert clock(engine, case_id).first_response_state == "at_risk"
    with time_machine.travel(madrid(2026, 11, 30, 9, 40), tick=False):
        out = runner.invoke(app, ["sla", "recompute", "--json", "--no-deliver"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["alerts"] == 1
    assert clock(engine, case_id).first_response_state == "breached"


# --- the web: promise, dashboard, case panel ----------------------------------------------------


@pytest.fixture
def client(sla_desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def publish_promise(client: TestClient, channel_id: int, hours: int) -> Any:
    token = csrf_of(client.get("/sla").text)
    return client.post("/sla/promises", data={"csrf_token": token, "channel_id": str(channel_id),
                                              "hours": str(hours)}, follow_redirects=True)


def test_the_promise_page_is_public_in_both_languages_and_the_snippet_frameable(
        client: TestClient, sla_desk: Desk) -> None:
    sign_in(client, "lead")
    assert publish_promise(client, sla_desk.channel_id, 24).status_code == 200

    public = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "es"})
    page = public.get("/promise/brisa")
    assert page.status_code == 200
    assert "Respondemos en menos de 24 h" in page.text and "We reply within 24 h" in page.text
    assert "X @BrisaAir" in page.text
    assert page.headers["x-frame-options"] == "DENY"  # the page itself is not frameable

    snippet = public.get("/promise/brisa/snippet.html")
    assert snippet.status_code == 200 and "We reply within 24 h" in snippet.text
    assert "frame-ancestors *" in snippet.headers["content-security-policy"]
    assert "x-frame-options" not in snippet.headers
    assert "<script" not in snippet.text

    data = public.get("/promise/brisa.json").json()
    assert data["channels"] == [{"channel": "X @BrisaAir", "network": "x", "hours": 24,
                                 "text": {"es": "Respondemos en menos de 24 h", "en": "We reply within 24 h"}}]
    assert public.get("/promise/nobody").status_code == 404


def test_agents_get_403_on_the_sla_dashboard(client: TestClient, sla_desk: Desk) -> None:
    sign_in(client, "agent")
    assert client.get("/sla").status_code == 403
    token = csrf_of(client.get("/").text)
    assert client.post("/sla/policies", data={"csrf_token": token, "name": "x", "first_response": "5"}).status_code \
        == 403
    assert client.post("/sla/promises", data={"csrf_token": token, "channel_id": "1", "hours": "1"}).status_code \
        == 403
    assert client.get("/sla/alerts").status_code == 200  # their own alerts


def test_lead_edits_policies_and_calendar_with_csrf(client: TestClient, engine: Engine, sla_desk: Desk) -> None:
    sign_in(client, "lead")
    token = csrf_of(client.get("/sla").text)
    assert client.post("/sla/policies", data={"name": "sin token", "first_response": "5"}).status_code == 403
    client.post("/sla/policies", data={"csrf_token": token, "name": "P1 everywhere", "priority": "1",
                                       "first_response": "30", "resolution": "240"})
    client.post("/sla/policies", data={"csrf_token": token, "name": "Everything else", "first_response": "240"})
    from ventanilla.sla.service import list_policies

    with session_scope(engine) as s:
        policies = [(p.id, p.name, p.priority) for p in list_policies(s, workspace_id=sla_desk.workspace_id)]
    assert [p[1:] for p in policies] == [("P1 everywhere", 1), ("Everything else", None)]
    client.post(f"/sla/policies/{policies[1][0]}", data={"csrf_token": token, "name": "Default",
                                                         "first_response": "120", "position": "5"})
    client.post(f"/sla/policies/{policies[0][0]}/delete", data={"csrf_token": token})
    with session_scope(engine) as s:
        left = [(p.name, p.first_response_minutes) for p in list_policies(s, workspace_id=sla_desk.workspace_id)]
    assert left == [("Default", 120)]

    bad = client.post("/sla/calendar", data={"csrf_token": token, "timezone": "Mars/Olympus"})
    assert "unknown IANA time zone" in bad.text
    client.post("/sla/calendar", data={"csrf_token": token, "timezone": "Atlantic/Canary",
                                       "hours_mon": "08:00-14:00, 15:00-18:00", "hours_sat": "10:00-13:00",
                                       "holidays": "2026-12-25\n2027-01-06"})
    from ventanilla.sla.service import workspace_calendar

    with session_scope(engine) as s:
        calendar = workspace_calendar(s, sla_desk.workspace_id)
    assert calendar.timezone == "Atlantic/Canary" and date(2026, 12, 25) in calendar.holidays
    assert calendar.to_dict()["hours"]["mon"] == [["08:00", "14:00"], ["15:00", "18:00"]]
    assert calendar.to_dict()["hours"]["tue"] == []


def test_promise_kept_rate_and_the_warning_come_from_real_first_responses(
        client: TestClient, engine: Engine, sla_desk: Desk) -> None:
    from ventanilla.sla.promise import promise_stats, set_promise

    policy(engine, sla_desk, first_response_minutes=24 * 60)
    now = madrid(2026, 11, 30, 12, 0)
    answered = [(now - timedelta(days=2), timedelta(hours=1)), (now - timedelta(days=3), timedelta(hours=2)),
                (now - timedelta(days=4), timedelta(hours=30)),  # broken
                (now - timedelta(days=20), timedelta(hours=5))]  # only in the 30-day window
    for n, (opened, took) in enumerate(answered):
        case_id = open_case(engine, sla_desk, f"a{n}", opened)
        reply(engine, case_id, opened + took)
    open_case(engine, sla_desk, "silent-old", now - timedelta(hours=40))  # unanswered past 24 h: broken
    open_case(engine, sla_desk, "silent-new", now - timedelta(hours=1))  # still inside the promise
    open_case(engine, sla_desk, "ancient", now - timedelta(days=45))  # outside both windows

    with session_scope(engine) as s:
        set_promise(s, workspace_id=sla_desk.workspace_id, channel_id=sla_desk.channel_id, hours=24,
                    actor=SYSTEM, now=now)
        stats = {st.channel_id: st for st in promise_stats(s, workspace_id=sla_desk.workspace_id, now=now)}
    x = stats[sla_desk.channel_id]
    assert (x.kept_7, x.decided_7) == (2, 4)
    assert (x.kept_30, x.decided_30) == (3, 5)
    assert x.rate_30 == pytest.approx(0.6)
    assert x.p90_seconds == 30 * 3600  # 90 % of the 4 answered cases took up to 30 h

    with time_machine.travel(now, tick=False):
        sign_in(client, "lead")
        page = client.get("/sla")
        assert "50 %" in page.text and "60 %" in page.text and "30.0 h" in page.text
        warned = publish_promise(client, sla_desk.channel_id, 12)
        assert warned.status_code == 200
        assert "Warning: you promise 12 h" in warned.text and "30.0 h" in warned.text
        calm = publish_promise(client, sla_desk.channel_id, 36)
        assert "Warning" not in calm.text and "Saved." in calm.text


def test_the_case_page_shows_due_times_and_state(client: TestClient, engine: Engine, sla_desk: Desk) -> None:
    policy(engine, sla_desk, first_response_minutes=60, resolution_minutes=600)
    case_id = open_case(engine, sla_desk, "panel", madrid(2026, 12, 4, 17, 30))
    recompute(engine, madrid(2026, 12, 9, 10, 0))
    sign_in(client, "agent")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    panel = page.text[page.text.index('id="sla"'):]
    assert "First response" in panel and "breached" in panel and "2026-12-09 09:30" in panel
    assert "Escalated to Lead Person" in panel
    assert "Resolution" in panel and "on track" in panel
    with session_factory(engine)() as s:
        assert s.scalar(select(func.count()).select_from(SlaAlert)) == 1
