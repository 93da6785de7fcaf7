"""Transparency guardrails, follow-up and CSAT, the improvement backlog and the case dossier,
over HTTP and through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from tests.conftest import PASSWORD, Desk, deliver, incoming
from ventanilla.audit.models import AuditEvent
from ventanilla.audit.service import Actor, events_for, verify
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.db import session_scope
from ventanilla.ingest.models import Post

SRC = Path(__file__).resolve().parents[2] / "src" / "ventanilla"
START = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, role: str) -> str:
    """Sign in as the desk's user with ``role``; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": f"{role}@brisa.test", "password": PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return csrf_of(client.get("/").text)


def post_form(client: TestClient, token: str, path: str, **data: str):
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def plain(html: str) -> str:
    """The page without the <mark> tags that highlight triage evidence in post texts."""
    return re.sub(r"</?mark>", "", html)


def count_posts(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Post)) or 0


def actions(engine: Engine, case_id: int) -> list[str]:
    with session_scope(engine) as s:
        return [e.action for e in events_for(s, target_type="case", target_ids=[str(case_id)])]


def case_of(engine: Engine, handle: str) -> int:
    from ventanilla.ingest.models import Author

    with session_scope(engine) as s:
        return s.scalar(select(Case.id).join(Author, Author.id == Case.author_id).where(Author.handle == handle)
                        .order_by(Case.id.desc()).limit(1))


# -- guardrails -------------------------------------------------------------------------------

def test_do_not_engage_keeps_the_posts_visible_and_counted_and_is_audited(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [
        incoming("t1", "Sois unos inútiles, lo repetiré cada día", handle="troll", language="es"),
        incoming("t2", "Otra vez aquí, inútiles", handle="troll", language="es",
                 created_at="2026-11-20T17:10:00Z")])
    case_id = case_of(engine, "troll")
    posts_before = count_posts(engine)
    token = sign_in(client, "agent")

    refused = post_form(client, token, f"/cases/{case_id}/do-not-engage", reason="  ")
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    assert "case.do_not_engage_set" not in actions(engine, case_id)

    ok = post_form(client, token, f"/cases/{case_id}/do-not-engage", reason="Troll persistente, insulta a diario")
    assert ok.status_code == 303 and "error" not in ok.headers["location"]

    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "data-do-not-engage" in page.text and "Troll persistente, insulta a diario" in page.text
    assert "Sois unos inútiles" in plain(page.text) and "Otra vez aquí" in plain(page.text)  # still shown
    assert "@troll" in client.get("/").text  # still in the inbox
    assert count_posts(engine) == posts_before
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.post_count == 2
        event = next(e for e in events_for(s, target_type="case", target_ids=[str(case_id)])
                 if e.action == "case.do_not_engage_set")
        assert event.actor == "agent@brisa.test" and event.after == {
            "do_not_engage": True, "reason": "Troll persistente, insulta a diario"}
        assert verify(s).ok

    # A troll's resolved case gets no satisfaction survey.
    post_form(client, token, f"/cases/{case_id}/status", status="resolved")
    assert "followup.skipped" in actions(engine, case_id)
    assert "followup.scheduled" not in actions(engine, case_id)


def test_hiding_spam_needs_a_reason_and_a_leads_approval(client: TestClient, engine: Engine, desk: Desk) -> None:
    from ventanilla.cases import guardrails
    from ventanilla.privacy.models import PostVisibility

    deliver(engine, desk.channel_id, [incoming("s1", "GANA 5000€ AL DÍA http://spam.example", handle="bot",
                                               language="es")])
    case_id = case_of(engine, "bot")
    with session_scope(engine) as s:
        post_id = s.scalar(select(Post.id).where(Post.case_id == case_id))
    posts_before = count_posts(engine)
    agent_token = sign_in(client, "agent")

    no_reason = post_form(client, agent_token, f"/posts/{post_id}/hide-request", reason="")
    assert "error=" in no_reason.headers["location"]
    asked = post_form(client, agent_token, f"/posts/{post_id}/hide-request", reason="Enlace de estafa")
    assert "error" not in asked.headers["location"]
    assert post_form(client, agent_token, f"/posts/{post_id}/hide-decision", decision="approve").status_code == 403
    with session_scope(engine) as s:
        visibility = s.scalar(select(PostVisibility).where(PostVisibility.post_id == post_id))
        assert visibility is not None and visibility.state == "requested" and not visibility.hidden
        post = s.get(Post, post_id)
        assert post is not None
        with pytest.raises(guardrails.GuardrailForbidden):
            guardrails.approve_hide(s, post=post, lead=Actor("agent@brisa.test", desk.users["agent"]))

    lead = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    lead_token = sign_in(lead, "lead")
    assert "data-hide-state=\"requested\"" in lead.get(f"/cases/{case_id}").text
    approved = post_form(lead, lead_token, f"/posts/{post_id}/hide-decision", decision="approve", note="ok")
    assert approved.status_code == 303 and "error" not in approved.headers["location"]
    with session_scope(engine) as s:
        visibility = s.scalar(select(PostVisibility).where(PostVisibility.post_id == post_id))
        assert visibility is not None and visibility.state == "approved" and visibility.hidden
        assert visibility.approved_by == desk.users["lead"] and visibility.reason == "Enlace de estafa"
        assert guardrails.hidden_post_ids(s, workspace_id=desk.workspace_id) == {post_id}
        post = s.get(Post, post_id)
        assert post is not None and post.text.startswith("GANA")  # stored exactly as it came
    assert count_posts(engine) == posts_before
    assert {"post.hide_requested", "post.hide_approved"} <= set(actions(engine, case_id))
    page = plain(lead.get(f"/cases/{case_id}").text)
    assert "GANA 5000€" in page and 'data-hide-state="approved"' in page
    # Folded away in the thread, with the approved reason, and still there to read.
    assert 'class="hidden-spam"' in page and "Enlace de estafa" in page


def test_no_code_path_deletes_a_post(client: TestClient) -> None:
    # The product never deletes a customer's post: not in a service, not behind a route.
    patterns = [re.compile(p) for p in (r"delete\(\s*Post\b", r"Post\.__table__\.delete", r"delete\(\s*post_table",
                                        r"session\.delete\(\s*post\b", r"DELETE\s+FROM\s+post\b")]
    offenders = [f"{path.relative_to(SRC)}: {pattern.pattern}"
                 for path in SRC.rglob("*.py") if "migrations" not in path.parts
                 for pattern in patterns if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
    delete_routes = [r.path for r in client.app.routes if "DELETE" in getattr(r, "methods", set())]
    assert [p for p in delete_routes if "post" in p] == []


# -- follow-up and CSAT ---------------------------------------------------------------------

def _resolve(client: TestClient, token: str, case_id: int) -> None:
    response = post_form(client, token, f"/cases/{case_id}/status", status="resolved")
    assert response.status_code == 303 and "error" not in response.headers["location"]


def _run_due(engine: Engine, now: datetime):
    from ventanilla.followups.service import run_due_followups

    with session_scope(engine) as s:
        return run_due_followups(s, now)


def _survey_token(engine: Engine, case_id: int) -> str:
    from ventanilla.followups.models import Followup

    with session_scope(engine) as s:
        message = s.scalar(select(Followup.message).where(Followup.case_id == case_id))
    assert message, "the satisfaction check was not prepared"
    match = re.search(r"/survey/([A-Za-z0-9_-]+)", message)
    assert match, message
    return match.group(1)


def test_followup_is_scheduled_48h_after_resolution_and_the_survey_takes_one_answer(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    from ventanilla.followups.models import CsatResponse, Followup

    with time_machine.travel(START, tick=False) as clock:
        deliver(engine, desk.channel_id, [incoming("f1", "Mi maleta no llegó a Madrid", handle="lucia",
                                                   language="es")])
        case_id = case_of(engine, "lucia")
        token = sign_in(client, "agent")
        _resolve(client, token, case_id)
        with session_scope(engine) as s:
            followup = s.scalar(select(Followup).where(Followup.case_id == case_id))
            assert followup is not None and followup.state == "scheduled"
            assert followup.due_at == START + timedelta(hours=48) and followup.channel == "private"
        assert "followup.scheduled" in actions(engine, case_id)

        clock.move_to(START + timedelta(hours=47, minutes=59))
        assert _run_due(engine, datetime.now(UTC)).drafted == []
        clock.move_to(START + timedelta(hours=48))
        run = _run_due(engine, datetime.now(UTC))
        assert len(run.drafted) == 1
        assert _run_due(engine, datetime.now(UTC)).drafted == []  # prepared once
        survey_token = _survey_token(engine, case_id)
        with session_scope(engine) as s:
            followup = s.scalar(select(Followup).where(Followup.case_id == case_id))
            assert followup is not None and followup.language == "es" and "encuesta" in (followup.message or "")
            assert followup.token_hash and survey_token not in followup.token_hash  # only the hash is kept
        sign_in(client, "agent")  # two days later: the morning's session cookie has expired
        panel = client.get(f"/cases/{case_id}").text
        assert 'data-followup-state="scheduled"' in panel and f"/survey/{survey_token}" in panel

        customer = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
        page = customer.get(f"/survey/{survey_token}")
        assert page.status_code == 200 and "¿Cómo lo hicimos?" in page.text  # the case's language
        assert customer.get("/survey/forged-token-123").status_code == 404
        assert customer.post("/survey/forged-token-123", data={"score": "5"}).status_code == 404
        bad = customer.post(f"/survey/{survey_token}", data={"score": "9"})
        assert bad.status_code == 422 and "del 1 al 5" in bad.text
        answered = customer.post(f"/survey/{survey_token}", data={"score": "4", "comment": "Rápidos y amables"})
        assert answered.status_code == 200 and "Hemos recibido tu valoración" in answered.text
        again = customer.post(f"/survey/{survey_token}", data={"score": "1", "comment": "otra vez"})
        assert again.status_code == 409 and "ya se respondió" in again.text
        assert "ya se respondió" in customer.get(f"/survey/{survey_token}").text
        with session_scope(engine) as s:
            answers = s.scalars(select(CsatResponse)).all()
            assert [(a.score, a.comment) for a in answers] == [(4, "Rápidos y amables")]
            assert s.scalar(select(Followup.state).where(Followup.case_id == case_id)) == "answered"
            case = s.get(Case, case_id)
            assert case is not None and case.status == "resolved"  # a good score leaves it resolved
        assert "followup.answered" in actions(engine, case_id)


def test_followup_hours_are_configurable_and_reopening_expires_the_check(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    from ventanilla.accounts.models import Workspace
    from ventanilla.followups.models import Followup

    with session_scope(engine) as s:
        workspace = s.get(Workspace, desk.workspace_id)
        assert workspace is not None
        workspace.settings = {**(workspace.settings or {}), "followup_hours": 24}
    with time_machine.travel(START, tick=False):
        deliver(engine, desk.channel_id, [incoming("h1", "The app charged me twice", handle="tom", language="en")])
        case_id = case_of(engine, "tom")
        token = sign_in(client, "agent")
        _resolve(client, token, case_id)
        post_form(client, token, f"/cases/{case_id}/status", status="open")
        with session_scope(engine) as s:
            followup = s.scalar(select(Followup).where(Followup.case_id == case_id))
            assert followup is not None and followup.due_at == START + timedelta(hours=24)
            assert followup.state == "expired"
        assert _run_due(engine, START + timedelta(days=3)).drafted == []


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """A local SMTP server (aiosmtpd) whose received messages land in the yielded list."""
    from aiosmtpd.controller import Controller

    from ventanilla.config import get_settings

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("VENTANILLA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VENTANILLA_SMTP_PORT", str(port))
    monkeypatch.setenv("VENTANILLA_SMTP_FROM", "care@brisa.test")
    get_settings.cache_clear()
    yield received
    controller.stop()
    get_settings.cache_clear()


def test_email_case_gets_the_survey_by_mail_and_a_low_score_reopens_and_notifies_the_lead(
        client: TestClient, engine: Engine, desk: Desk, smtp_inbox: list) -> None:
    from ventanilla.followups.models import Followup
    from ventanilla.ingest.channels import create_channel

    with session_scope(engine) as s:
        mail_channel = create_channel(s, workspace_id=desk.workspace_id, slug="mail", name="Correo",
                                      network="email", account="care@brisa.test", is_public=False)
        mail_channel_id = mail_channel.id
    with time_machine.travel(START, tick=False) as clock:
        deliver(engine, mail_channel_id, [incoming("<m1@example.com>", "I was charged twice for my ticket",
                                                   handle="jane@example.com", network="email", kind="email",
                                                   language="en")])
        case_id = case_of(engine, "jane@example.com")
        token = sign_in(client, "agent")
        _resolve(client, token, case_id)
        clock.move_to(START + timedelta(hours=48, minutes=5))
        run = _run_due(engine, datetime.now(UTC))
        assert len(run.emailed) == 1 and run.drafted == []
        assert [e.rcpt_tos for e in smtp_inbox] == [["jane@example.com"]]
        body = mail_text(smtp_inbox[0])
        match = re.search(r"/survey/([A-Za-z0-9_-]+)", body)
        assert match and "Is everything sorted?" in body and "one-minute survey" in body
        with session_scope(engine) as s:
            followup = s.scalar(select(Followup).where(Followup.case_id == case_id))
            assert followup is not None and followup.state == "sent" and followup.recipient == "jane@example.com"

        customer = TestClient(client.app, base_url="http://127.0.0.1")
        low = customer.post(f"/survey/{match.group(1)}", data={"score": "2", "comment": "Still not refunded"})
        assert low.status_code == 200 and "reopened your case" in low.text
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None and case.status == CaseStatus.open.value
        alert = next(e for e in events_for(s, target_type="case", target_ids=[str(case_id)])
                 if e.action == "case.csat_low")
        assert alert.after is not None and alert.after["notified"] == [desk.users["lead"]]
        assert alert.after["emailed"] == ["lead@brisa.test"]
        assert verify(s).ok
    assert smtp_inbox[-1].rcpt_tos == ["lead@brisa.test"]
    assert f"case #{case_id}" in mail_text(smtp_inbox[-1])
    steps = actions(engine, case_id)
    assert steps.index("followup.answered") < steps.index("case.csat_low")
    assert steps[steps.index("followup.answered"):].count("case.status_changed") == 1  # the reopening


def mail_text(envelope) -> str:
    """Subject and body of a received message, decoded."""
    from email import message_from_bytes, policy

    message = message_from_bytes(envelope.content, policy=policy.default)
    return f"{message['Subject']}\n{message.get_content()}"


def test_the_followups_task_is_registered() -> None:
    from ventanilla.workers.queue import TASKS, _load_tasks

    _load_tasks()
    assert "followups.run" in TASKS


# -- improvements ---------------------------------------------------------------------------

def test_shipping_an_improvement_prepares_one_notice_per_customer_in_their_language(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    from ventanilla.improvements.models import ImprovementNotice

    deliver(engine, desk.channel_id, [
        incoming("i1", "La app no me deja facturar la maleta", handle="ana", language="es"),
        incoming("i2", "The app won't let me check in my bag", handle="bob", language="en"),
    ])
    ana_first = case_of(engine, "ana")
    bob = case_of(engine, "bob")
    agent = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    agent_token = sign_in(agent, "agent")
    _resolve(agent, agent_token, ana_first)
    deliver(engine, desk.channel_id, [incoming("i3", "Otra vez falla la app al facturar", handle="ana",
                                               language="es", created_at="2026-11-20T18:00:00Z")])
    ana_second = case_of(engine, "ana")
    assert ana_second != ana_first

    assert agent.get("/improvements").status_code == 403
    analyst = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    analyst_token = sign_in(analyst, "analyst")
    assert analyst.get("/improvements").status_code == 200
    assert post_form(analyst, analyst_token, "/improvements", title="x").status_code == 403

    token = sign_in(client, "lead")
    created = post_form(client, token, "/improvements", title="Bag check-in fails in the app",
                        description="Root cause: the app times out on bag check-in", case_id=str(ana_first),
                        owner=str(desk.users["lead"]), note_es="la app ya factura la maleta sin fallos",
                        note_en="the app now checks in bags without errors")
    assert created.status_code == 303
    improvement_path = created.headers["location"]
    for case_id in (ana_second, bob):
        post_form(client, token, f"{improvement_path}/cases", case_id=str(case_id))
    assert post_form(client, token, f"{improvement_path}/state", state="shipped").status_code == 303
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ImprovementNotice)) == 0  # proposed cannot ship
    post_form(client, token, f"{improvement_path}/state", state="planned")
    post_form(client, token, f"{improvement_path}/state", state="shipped")

    with session_scope(engine) as s:
        notices = {n.case_id: n for n in s.scalars(select(ImprovementNotice))}
    assert set(notices) == {ana_second, bob}  # one per customer: ana's newest case, and bob's
    assert notices[ana_second].language == "es" and "la app ya factura la maleta" in notices[ana_second].text
    assert notices[bob].language == "en" and "the app now checks in bags" in notices[bob].text
    assert all(n.state == "draft" for n in notices.values())

    page = client.get(improvement_path).text
    for case_id in (ana_first, ana_second, bob):
        assert f'href="/cases/{case_id}"' in page
    assert page.count('data-notice-state="draft"') == 2
    assert "improvement.notice_prepared" in actions(engine, bob)
    assert "improvement.case_linked" in actions(engine, ana_first)

    notice_id = notices[bob].id
    assert f"/notices/{notice_id}/sent" in agent.get(f"/cases/{bob}").text
    assert post_form(agent, agent_token, f"/notices/{notice_id}/sent").status_code == 303
    with session_scope(engine) as s:
        notice = s.get(ImprovementNotice, notice_id)
        assert notice is not None and notice.state == "sent" and notice.sent_by == desk.users["agent"]
        assert verify(s).ok


# -- dossier --------------------------------------------------------------------------------

def test_dossier_has_every_timeline_step_as_json_pdf_and_from_the_cli(
        client: TestClient, engine: Engine, desk: Desk, tmp_path: Path) -> None:
    deliver(engine, desk.channel_id, [incoming("d1", "Perdí la conexión por el retraso; ¿quién me paga el hotel? ñ€",
                                               handle="pilar", language="es")])
    case_id = case_of(engine, "pilar")
    token = sign_in(client, "agent")
    post_form(client, token, f"/cases/{case_id}/assign", assignee="me")
    post_form(client, token, f"/cases/{case_id}/notes", body="Llamar a la escala de Lisboa")
    _resolve(client, token, case_id)
    assert client.get(f"/cases/{case_id}/dossier.json").status_code == 403  # agents do not export

    with session_scope(engine) as s:
        expected = [e.action for e in s.scalars(select(AuditEvent).where(
            AuditEvent.target_type == "case", AuditEvent.target_id == str(case_id)).order_by(AuditEvent.id))]
    analyst = TestClient(client.app, base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    sign_in(analyst, "analyst")
    response = analyst.get(f"/cases/{case_id}/dossier.json")
    assert response.status_code == 200
    data = response.json()
    assert [e["action"] for e in data["timeline"]] == expected
    assert {"case.opened", "case.assigned", "case.note_added", "case.status_changed", "followup.scheduled"} <= set(
        expected)
    assigned = next(e for e in data["timeline"] if e["action"] == "case.assigned")
    assert assigned["actor"] == "Agent Person" and assigned["before"]["assignee_id"] is None
    assert assigned["after"]["assignee_id"] == desk.users["agent"]
    assert assigned["at_local"].endswith(("CET", "CEST"))  # the workspace's zone, Europe/Madrid
    assert data["conversation"][0]["text"].endswith("ñ€")
    assert data["notes"][0]["text"] == "Llamar a la escala de Lisboa" and data["notes"][0]["by"] == "Agent Person"
    assert data["resolution"]["status"] == "resolved" and data["resolution"]["resolved_by"] == "Agent Person"
    assert "case.dossier_exported" in actions(engine, case_id)  # taking a copy is documented too

    pdf = analyst.get(f"/cases/{case_id}/dossier.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert f"Case dossier #{case_id}" in pdf_text(pdf.content, tmp_path)

    from ventanilla.cli import app

    runner = CliRunner()
    out_json, out_pdf = tmp_path / "d.json", tmp_path / "d.pdf"
    result = runner.invoke(app, ["export", "dossier", str(case_id), "--format", "json", "-o", str(out_json)])
    assert result.exit_code == 0, result.output
    assert json.loads(out_json.read_text(encoding="utf-8"))["case"]["id"] == case_id
    result = runner.invoke(app, ["export", "dossier", str(case_id), "--format", "pdf", "-o", str(out_pdf)])
    assert result.exit_code == 0, result.output
    assert out_pdf.read_bytes().startswith(b"%PDF")
    assert runner.invoke(app, ["export", "dossier", "999999"]).exit_code == 1
    assert runner.invoke(app, ["export", "dossier", str(case_id), "--format", "docx"]).exit_code == 2


def test_dossier_pdf_falls_back_to_core_fonts_without_dejavu(
        engine: Engine, desk: Desk, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ventanilla.cases import dossier

    deliver(engine, desk.channel_id, [incoming("d2", "Zażółć gęślą jaźń — 航班 ñ", handle="ola", language="es")])
    case_id = case_of(engine, "ola")
    monkeypatch.setattr(dossier, "FONT_REGULAR", tmp_path / "missing.ttf")
    assert dossier.latin1("Zażółć ñ 航") == "Zazó?c ñ ?"
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        content = dossier.dossier_pdf(s, case=case)
    assert content.startswith(b"%PDF") and f"Case dossier #{case_id}" in pdf_text(content, tmp_path)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text via pdftotext when installed, else its metadata (the title names the case)."""
    if shutil.which("pdftotext"):
        path = tmp_path / "out.pdf"
        path.write_bytes(content)
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return content.decode("latin-1")
