"""Replies from draft to the network: lint, approvals, the outbox (retries, a killed worker),
e-mail over SMTP, the reply panel, the approvals page and the template library."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from tests.conftest import PASSWORD, Desk, deliver, incoming
from tests.connectors_sim.server import SimServer
from tests.connectors_sim.sim_network import SimNetwork
from ventanilla.accounts.models import Workspace
from ventanilla.accounts.service import Principal, principal_for
from ventanilla.audit.models import AuditEvent
from ventanilla.cases.models import Case
from ventanilla.db import session_scope, utcnow
from ventanilla.ingest.channels import create_channel
from ventanilla.ingest.models import Post
from ventanilla.replies import outbox, service
from ventanilla.replies.models import Reply, ReplyTemplate
from ventanilla.replies.templating import TemplateError

ROOT = Path(__file__).resolve().parents[2]
RUDE_ES = "Como ya le explicamos, deje de quejarse, pesado. Lea las condiciones."
COMPLAINT_ES = "@SimBrand mi vuelo lleva 4 horas de retraso y nadie nos informa de nada. Vergüenza."
COMPLAINT_EN = "@SimBrand my flight has been delayed for 4 hours and nobody tells us anything. Awful service."


@pytest.fixture
def net() -> Iterator[SimNetwork]:
    with SimServer() as server:
        yield SimNetwork(server)


def sim_channel(engine: Engine, desk: Desk, base_url: str, slug: str = "sim-brand", **settings: object) -> int:
    with session_scope(engine) as s:
        channel = create_channel(s, workspace_id=desk.workspace_id, slug=slug, name="Sim @SimBrand",
                                 network="sim", account="@SimBrand", settings={"base_url": base_url, **settings})
        return channel.id


def open_case(engine: Engine, channel_id: int, text: str = COMPLAINT_ES, external_id: str = "c1",
              handle: str = "maria", network: str = "sim") -> int:
    deliver(engine, channel_id, [incoming(external_id, text, handle=handle, network=network)])
    with session_scope(engine) as s:
        return s.scalar(select(Post.case_id).where(Post.external_id == external_id))  # type: ignore[return-value]


def who(s, desk: Desk, role: str) -> Principal:
    principal = principal_for(s, user_id=desk.users[role])
    assert principal is not None
    return principal


def submit(engine: Engine, desk: Desk, case_id: int, text: str, role: str = "agent", public: bool = True,
           offer: str | None = None) -> Reply:
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        reply = service.submit_reply(s, case=case, text=text, actor=who(s, desk, role), public=public,
                                     offer_amount=offer)
        return reply


def clean_draft(engine: Engine, desk: Desk, case_id: int) -> str:
    with session_scope(engine) as s:
        return service.draft_for_case(s, case=s.get(Case, case_id), user_id=desk.users["agent"]).text


def status_of(engine: Engine, reply_id: int) -> Reply:
    with session_scope(engine) as s:
        reply = s.get(Reply, reply_id)
        assert reply is not None
        return reply


# -- drafts and the outbox --------------------------------------------------------------------


def test_draft_is_in_the_customers_language_and_signed_with_the_agents_first_name(
        engine: Engine, desk: Desk, net: SimNetwork) -> None:
    channel = sim_channel(engine, desk, net.server.base_url)
    es_case = open_case(engine, channel, COMPLAINT_ES, "d-es", handle="maria")
    en_case = open_case(engine, channel, COMPLAINT_EN, "d-en", handle="mary")
    with session_scope(engine) as s:
        es = service.draft_for_case(s, case=s.get(Case, es_case), user_id=desk.users["agent"])
        en = service.draft_for_case(s, case=s.get(Case, en_case), user_id=desk.users["agent"])
        private = service.draft_for_case(s, case=s.get(Case, en_case), user_id=desk.users["agent"],
                                         stage="private_followup", public=False)
    assert es.template == "first_public.es" and "Agent" in es.text and "24" in es.text
    assert en.template == "first_public.en" and "Agent" in en.text
    assert private.template == "private_followup.en"
    with session_scope(engine) as s:
        assert not [f for f in service.lint_for_case(s, case=s.get(Case, es_case), text=es.text, public=True)
                    if f.severity == "high"]


def test_a_clean_reply_goes_straight_to_the_outbox_and_is_sent_once(
        engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, clean_draft(engine, desk, case_id))
    assert reply.status == "queued" and reply.approval_reasons == []

    outcomes = outbox.run_once(engine)
    assert [(o.reply_id, o.status) for o in outcomes] == [(reply.id, "sent")]
    assert outbox.run_once(engine) == []  # nothing left: never sent twice
    assert len(net.posted) == 1 and net.posted[reply.idempotency_key]["text"] == reply.text
    assert net.posted[reply.idempotency_key]["in_reply_to"] == "c1"

    with session_scope(engine) as s:
        sent = s.get(Reply, reply.id)
        case = s.get(Case, case_id)
        assert sent.status == "sent" and sent.external_id == "sim-1" and sent.attempts == 1
        assert case.first_response_at is not None and case.status == "open"
        posts = s.scalars(select(Post).where(Post.case_id == case_id).order_by(Post.id)).all()
        assert [(p.direction, p.text) for p in posts][-1] == ("out", reply.text)
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "case",
                                                            AuditEvent.target_id == str(case_id))).all()
        assert "reply.submitted" in actions and "reply.sent" in actions


def test_a_retryable_failure_backs_off_then_sends_once(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, clean_draft(engine, desk, case_id))
    net.server.fail_with_status(503, times=2)
    first = outbox.run_once(engine)
    assert first[0].status == "queued" and "503" in (first[0].error or "")
    queued = status_of(engine, reply.id)
    waited = (queued.next_attempt_at - utcnow()).total_seconds()
    assert 25 < waited <= 30 and queued.attempts == 1
    assert outbox.run_once(engine) == []  # not due yet
    second = outbox.run_once(engine, now=utcnow() + timedelta(seconds=31))
    assert second[0].status == "queued"
    assert 55 < (status_of(engine, reply.id).next_attempt_at - utcnow()).total_seconds() <= 60
    third = outbox.run_once(engine, now=utcnow() + timedelta(seconds=100))
    assert third[0].status == "sent" and len(net.posted) == 1
    assert status_of(engine, reply.id).attempts == 3
    assert [outbox.retry_delay(n) for n in (1, 2, 3, 8, 12)] == [30, 60, 120, 3600, 3600]


def test_a_refused_send_fails_with_its_reason(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, clean_draft(engine, desk, case_id))
    net.server.fail_with_status(400, times=1)
    assert outbox.run_once(engine)[0].status == "failed"
    failed = status_of(engine, reply.id)
    assert "HTTP 400" in (failed.last_error or "") and not net.posted
    with session_scope(engine) as s:
        assert s.get(Case, case_id).first_response_at is None


# -- approvals --------------------------------------------------------------------------------


def test_a_high_severity_finding_needs_approval_and_a_lead_approves_it(
        engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, RUDE_ES)
    assert reply.status == "needs_approval"
    assert "high_finding:rudeness" in reply.approval_reasons
    assert any(f["rule"] == "rudeness" and f["severity"] == "high" for f in reply.findings)
    assert outbox.run_once(engine) == [] and not net.posted  # held: the outbox does not touch it

    with session_scope(engine) as s:
        held = s.get(Reply, reply.id)
        with pytest.raises(service.ReplyForbidden):
            service.approve(s, reply=held, actor=who(s, desk, "agent"))
        service.approve(s, reply=held, actor=who(s, desk, "lead"), comment="ok, it is what they asked")
        assert held.status == "approved"
    assert outbox.run_once(engine)[0].status == "sent" and len(net.posted) == 1
    done = status_of(engine, reply.id)
    assert done.reviewer_id == desk.users["lead"] and done.review_comment == "ok, it is what they asked"


def test_a_lead_can_edit_a_held_reply_and_approve_the_new_text(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, RUDE_ES)
    better = clean_draft(engine, desk, case_id)
    with session_scope(engine) as s:
        held = s.get(Reply, reply.id)
        assert held is not None
        service.edit(s, reply=held, actor=who(s, desk, "lead"), text=better, comment="Rewritten with the playbook")
        assert held.status == "approved" and not [f for f in held.findings if f["severity"] == "high"]
    assert outbox.run_once(engine)[0].status == "sent"
    assert [p["text"] for p in net.posted.values()] == [better]
    with session_scope(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "reply.edited_and_approved")).one()
        assert event.before is not None and event.before["text"] == RUDE_ES


def test_saved_replies_are_offered_on_their_keys(client: TestClient, engine: Engine, desk: Desk,
                                                 net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    token = sign_in(client, "lead")
    for title, key in (("Horario", "3"), ("Horario nuevo", "3")):
        added = client.post("/admin/saved-replies", data={"title": title, "body": f"{title}: de 8 a 20 h.",
                                                          "language": "es", "shortcut": key, "csrf_token": token},
                            follow_redirects=False)
        assert added.status_code == 303
    panel = client.get(f"/cases/{case_id}/replies/panel").text
    assert 'data-macro-body="3">Horario nuevo: de 8 a 20 h.' in panel  # the key moved to the newest
    assert "Horario:" not in panel


def test_a_rejected_reply_is_never_sent(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, RUDE_ES)
    with session_scope(engine) as s:
        held = s.get(Reply, reply.id)
        with pytest.raises(service.ReplyError, match="say why"):
            service.reject(s, reply=held, actor=who(s, desk, "lead"), comment="  ")
        service.reject(s, reply=held, actor=who(s, desk, "lead"), comment="No: apologise first, no blame.")
    assert outbox.run_once(engine) == [] and not net.posted
    rejected = status_of(engine, reply.id)
    assert rejected.status == "rejected" and rejected.review_comment == "No: apologise first, no blame."
    with session_scope(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "reply.rejected")).one()
        assert event.target_type == "case" and event.target_id == str(case_id)
        assert event.after["comment"] == "No: apologise first, no blame."


def test_goodwill_above_the_agents_authority_needs_approval(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    text = clean_draft(engine, desk, case_id)
    assert submit(engine, desk, case_id, text, offer="50").status == "queued"  # at the limit
    above = submit(engine, desk, case_id, text, offer="120,50")
    assert above.status == "needs_approval" and above.approval_reasons == ["goodwill_above_authority"]
    assert str(above.offer_amount) == "120.50" and above.offer_currency == "EUR"
    assert submit(engine, desk, case_id, text, role="lead", offer="120").status == "queued"
    assert submit(engine, desk, case_id, text, role="admin", offer="100000").status == "queued"
    with session_scope(engine) as s:
        ws = s.get(Workspace, desk.workspace_id)
        ws.settings = {**ws.settings, "authority_limits": {"agent": 200}}
    assert submit(engine, desk, case_id, text, offer="120").status == "queued"
    with pytest.raises(service.ReplyError):
        submit(engine, desk, case_id, text, offer="-5")


def test_in_crisis_mode_every_public_reply_needs_approval(engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    with session_scope(engine) as s:
        ws = s.get(Workspace, desk.workspace_id)
        ws.settings = {**ws.settings, "crisis_mode": True}
    text = clean_draft(engine, desk, case_id)
    for role in ("agent", "lead", "admin"):
        held = submit(engine, desk, case_id, text, role=role)
        assert held.status == "needs_approval" and held.approval_reasons == ["crisis_mode"]
    assert submit(engine, desk, case_id, text, public=False).status == "queued"  # a private hand-off


# -- the killed worker ------------------------------------------------------------------------


def _outbox_process(db_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VENTANILLA_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "ventanilla.replies.outbox"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("confirm", [True, False])
def test_a_worker_killed_mid_send_neither_loses_nor_doubles_the_reply(
        engine: Engine, desk: Desk, db_url: str, confirm: bool) -> None:
    with SimServer() as server:
        net = SimNetwork(server, delay=30.0)  # the network takes its time to answer
        case_id = open_case(engine, sim_channel(engine, desk, server.base_url, confirm=confirm))
        reply = submit(engine, desk, case_id, clean_draft(engine, desk, case_id))

        worker = _outbox_process(db_url)
        deadline = time.monotonic() + 60
        while not server.requests_to("POST", "/replies"):
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker never called the network"
            time.sleep(0.05)
        os.kill(worker.pid, signal.SIGKILL)  # in the middle of the send
        worker.wait(timeout=10)
        assert status_of(engine, reply.id).status == "sending"  # committed before the network call

        # Restarted: a fresh "sending" is left alone (its worker may be alive and slow) ...
        assert outbox.run_once(engine) == []
        # ... and once it is stale, it is settled without sending again.
        net.delay = 0.0
        outcomes = outbox.run_once(engine, stale_after=timedelta(0))
        settled = status_of(engine, reply.id)
        assert len(server.requests_to("POST", "/replies")) == 1 and len(net.posted) == 1
        if confirm:  # the network confirms it has the reply: sent, with its id, once
            assert [o.status for o in outcomes] == ["sent"]
            assert settled.status == "sent" and settled.external_id == "sim-1"
            with session_scope(engine) as s:
                assert s.scalar(select(func.count()).select_from(Post).where(
                    Post.case_id == case_id, Post.direction == "out")) == 1
                assert s.get(Case, case_id).first_response_at is not None
        else:  # the network cannot say: a person checks before resending
            assert [o.status for o in outcomes] == ["failed"]
            assert settled.status == "failed" and settled.last_error.startswith(outbox.INTERRUPTED)
        assert outbox.run_once(engine, stale_after=timedelta(0)) == []
        assert len(server.requests_to("POST", "/replies")) == 1


# -- e-mail -----------------------------------------------------------------------------------


def test_an_email_reply_goes_out_over_smtp(engine: Engine, desk: Desk) -> None:
    from tests.connectors_sim.mailserver import DOVECOT, MAIL_PASSWORD, MAIL_USER, Dovecot, SmtpServer

    if DOVECOT is None:
        pytest.skip("Dovecot is not installed: apt-get install -y dovecot-imapd")
    with Dovecot() as imap, SmtpServer() as smtp:
        with session_scope(engine) as s:
            channel = create_channel(
                s, workspace_id=desk.workspace_id, slug="mail", name="Atención", network="email",
                account=MAIL_USER, is_public=False,
                secrets_={"username": MAIL_USER, "password": MAIL_PASSWORD},
                settings={"imap_host": "127.0.0.1", "imap_port": imap.port, "imap_security": "none",
                          "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_security": "none",
                          "from_address": MAIL_USER, "from_name": "Aerolínea Brisa"})
            channel_id = channel.id
        case_id = open_case(engine, channel_id, "Mi maleta no ha llegado y nadie me contesta.", "<m1@cliente.example>",
                            handle="lola@cliente.example", network="email")
        with session_scope(engine) as s:
            text = service.draft_for_case(s, case=s.get(Case, case_id), user_id=desk.users["agent"],
                                          stage="private_followup", public=False).text
        reply = submit(engine, desk, case_id, text, public=False)
        assert reply.status == "queued"
        assert outbox.run_once(engine)[0].status == "sent"
        assert outbox.run_once(engine) == []
        assert len(smtp.messages) == 1
        message = smtp.messages[0].message
        assert smtp.messages[0].rcpt_tos == ["lola@cliente.example"]
        assert message["In-Reply-To"] == "<<m1@cliente.example>>" or "m1@cliente.example" in message["In-Reply-To"]
        assert "Agent" in message.get_content()
        sent = status_of(engine, reply.id)
        assert sent.status == "sent" and sent.external_id and sent.external_id.startswith("ventanilla.")


# -- the web: panel, lint fragment, approvals, templates, API ---------------------------------


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, role: str) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": f"{role}@brisa.test", "password": PASSWORD,
                                           "csrf_token": token, "next": "/"}, follow_redirects=False)
    assert response.status_code == 303
    return csrf_of(client.get("/").text)


def test_the_reply_panel_lints_live_and_sends_from_the_case_page(
        client: TestClient, engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    token = sign_in(client, "agent")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and f'hx-get="/cases/{case_id}/replies/panel"' in page.text
    assert "/static/replies.js" in page.text
    panel = client.get(f"/cases/{case_id}/replies/panel")
    assert panel.status_code == 200 and 'id="reply-text"' in panel.text and "Agent" in panel.text
    assert 'data-draft="private"' in panel.text and "Send publicly" in panel.text

    fragment = client.post(f"/cases/{case_id}/replies/lint", data={"text": RUDE_ES, "public": "1"},
                           headers={"X-CSRF-Token": token})
    assert fragment.status_code == 200
    assert 'data-rule="rudeness"' in fragment.text and "high" in fragment.text and "<mark" in fragment.text
    assert client.post(f"/cases/{case_id}/replies/lint", data={"text": RUDE_ES}).status_code == 403  # no CSRF

    sent = client.post(f"/cases/{case_id}/replies", data={"text": clean_draft(engine, desk, case_id),
                                                          "public": "1", "csrf_token": token},
                       follow_redirects=False)
    assert sent.status_code == 303
    assert len(net.posted) == 1  # the in-process queue sent it at once
    held = client.post(f"/cases/{case_id}/replies", data={"text": RUDE_ES, "public": "1", "csrf_token": token},
                       follow_redirects=False)
    assert held.status_code == 303 and len(net.posted) == 1
    panel = client.get(f"/cases/{case_id}/replies/panel").text
    assert 'data-reply-status="sent"' in panel and 'data-reply-status="needs_approval"' in panel
    assert "awaiting approval" in panel


def test_an_agent_cannot_approve_and_a_lead_does_on_the_approvals_page(
        client: TestClient, engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    reply = submit(engine, desk, case_id, RUDE_ES)
    token = sign_in(client, "agent")
    assert client.get("/approvals").status_code == 403
    assert client.post(f"/approvals/{reply.id}/approve", data={"csrf_token": token}).status_code == 403
    api = client.post(f"/api/v1/replies/{reply.id}/approve", json={}, headers={"X-CSRF-Token": token})
    assert api.status_code == 403
    assert status_of(engine, reply.id).status == "needs_approval"
    client.post("/logout", data={"csrf_token": token})

    token = sign_in(client, "lead")
    page = client.get("/approvals")
    assert page.status_code == 200 and "deje de quejarse" in page.text and "Approvals" in page.text
    assert client.post(f"/approvals/{reply.id}/approve", data={"comment": "fine"}).status_code == 403  # no CSRF
    done = client.post(f"/approvals/{reply.id}/approve", data={"csrf_token": token, "comment": "fine"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert status_of(engine, reply.id).status == "sent" and len(net.posted) == 1


def test_the_json_api_lists_creates_and_reviews_replies(
        client: TestClient, engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    token = sign_in(client, "agent")
    created = client.post(f"/api/v1/cases/{case_id}/replies", json={"text": RUDE_ES, "public": True},
                          headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "needs_approval" and "high_finding:rudeness" in body["approval_reasons"]
    assert any(f["rule"] == "rudeness" for f in body["findings"])
    listed = client.get(f"/api/v1/cases/{case_id}/replies").json()
    assert [r["id"] for r in listed] == [body["id"]]
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "lead")
    refused = client.post(f"/api/v1/replies/{body['id']}/reject", json={"comment": ""},
                          headers={"X-CSRF-Token": token})
    assert refused.status_code == 422
    rejected = client.post(f"/api/v1/replies/{body['id']}/reject", json={"comment": "too rude"},
                           headers={"X-CSRF-Token": token})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert not net.posted


def test_editing_a_template_creates_a_version_the_drafts_use(
        client: TestClient, engine: Engine, desk: Desk, net: SimNetwork) -> None:
    case_id = open_case(engine, sim_channel(engine, desk, net.server.base_url))
    token = sign_in(client, "agent")
    assert client.get("/admin/templates").status_code == 403
    client.post("/logout", data={"csrf_token": token})
    token = sign_in(client, "lead")
    library = client.get("/admin/templates")
    assert library.status_code == 200 and 'href="/admin/templates/first_public/es"' in library.text
    assert "reason_phrase" in client.get("/admin/templates/first_public/es").text  # the variables are listed
    source = ("Hola{% if name %} {{ name }}{% endif %}, sentimos {{ reason_phrase }}. "
              "Seguimos por {{ channel }}. {{ agent }}")
    preview = client.post("/admin/templates/first_public/es/preview", data={"source": source},
                          headers={"X-CSRF-Token": token})
    assert preview.status_code == 200 and "sentimos el retraso" in preview.text
    for _ in range(2):
        saved = client.post("/admin/templates/first_public/es", data={"source": source, "csrf_token": token},
                            follow_redirects=False)
        assert saved.status_code == 303
    with session_scope(engine) as s:
        versions = s.scalars(select(ReplyTemplate.version).where(ReplyTemplate.key == "first_public")).all()
        assert sorted(versions) == [1, 2]
    editor = client.get("/admin/templates/first_public/es")
    assert editor.status_code == 200 and 'data-version="2"' in editor.text and "Lead Person" in editor.text
    draft = clean_draft(engine, desk, case_id)
    assert draft.startswith("Hola Maria, sentimos el retraso.") and draft.endswith("Agent")


def test_a_template_with_a_syntax_error_is_refused_with_a_clear_message(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    token = sign_in(client, "lead")
    broken = "Hola {{ name }, sentimos {% if %}"
    preview = client.post("/admin/templates/first_public/es/preview", data={"source": broken},
                          headers={"X-CSRF-Token": token})
    assert preview.status_code == 200 and "syntax error on line 1" in preview.text
    saved = client.post("/admin/templates/first_public/es", data={"source": broken, "csrf_token": token})
    assert saved.status_code == 422 and "syntax error on line 1" in saved.text
    unknown = client.post("/admin/templates/first_public/es", data={"source": "Hola {{ dni }}", "csrf_token": token})
    assert unknown.status_code == 422 and "unknown variable(s): dni" in unknown.text
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(ReplyTemplate)) == 0
        lead = principal_for(s, user_id=desk.users["lead"])
        assert lead is not None
        with pytest.raises(TemplateError):
            service.save_template(s, workspace_id=desk.workspace_id, key="first_public", language="es",
                                  source="{{ brand.__class__ }}", actor=lead)
