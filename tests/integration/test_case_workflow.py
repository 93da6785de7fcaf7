"""Routing, the playbook checklist, private hand-offs, resolutions and goodwill approvals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, Desk, deliver, incoming
from ventanilla.accounts.models import Membership, Role, Workspace
from ventanilla.accounts.service import create_team, create_user, principal_for
from ventanilla.audit.service import SYSTEM
from ventanilla.cases import routing, workflow
from ventanilla.cases.models import Case
from ventanilla.cases.service import CaseError
from ventanilla.db import session_scope


def client_for(role: str) -> TestClient:
    from ventanilla.web.app import create_app

    client = TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": f"{role}@brisa.test", "password": PASSWORD, "csrf_token": token})
    return client


def csrf(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def test_rules_route_by_language_and_reach_then_round_robin_by_load(engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        ws = s.get(Workspace, desk.workspace_id)
        es1 = create_user(s, email="es1@brisa.test", name="Elena", password=PASSWORD, workspace=ws,
                          role=Role.agent, languages=["es"])
        es2 = create_user(s, email="es2@brisa.test", name="Eva", password=PASSWORD, workspace=ws,
                          role=Role.agent, languages=["es"])
        senior = create_user(s, email="senior@brisa.test", name="Sara", password=PASSWORD, workspace=ws,
                             role=Role.agent, languages=["es", "en"])
        spanish = create_team(s, workspace=ws, name="Spanish desk", member_ids=[es1.id, es2.id])
        seniors = create_team(s, workspace=ws, name="Senior", member_ids=[senior.id])
        lead = principal_for(s, user_id=desk.users["lead"])
        routing.add_rule(s, workspace_id=ws.id, name="big voices", team_id=seniors.id,
                         conditions={"min_followers": 100_000}, actor=lead.actor)
        routing.add_rule(s, workspace_id=ws.id, name="spanish", team_id=spanish.id,
                         conditions={"language": "es"}, actor=lead.actor)
        ids = {"es1": es1.id, "es2": es2.id, "senior": senior.id}
    deliver(engine, desk.channel_id, [
        incoming("r1", "Mi vuelo sale con cuatro horas de retraso y nadie informa", handle="a", language="es"),
        incoming("r2", "Me han cobrado dos veces el billete, quiero el reembolso", handle="b", language="es"),
        incoming("r3", "Perdieron mi maleta en Barajas", handle="star", followers=500_000, language="es"),
        incoming("r4", "Lovely crew today", handle="c", language="en"),
    ])
    with session_scope(engine) as s:
        cases = {c.subject[:2]: c for c in s.scalars(select(Case))}
        assignees = {c.assignee_id for c in s.scalars(select(Case).where(Case.language == "es"))}
        star = s.scalar(select(Case).where(Case.subject.like("Perdieron%")))
        assert star.assignee_id == ids["senior"]
        assert {ids["es1"], ids["es2"]} <= assignees  # the two Spanish cases were shared out
        english = s.scalar(select(Case).where(Case.language == "en"))
        assert english.team_id is None and english.assignee_id is None  # no rule matched
        assert len(cases) == 4


def test_a_full_agent_gets_no_more_cases(engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        ws = s.get(Workspace, desk.workspace_id)
        team = create_team(s, workspace=ws, name="Tiny", member_ids=[desk.users["agent"]])
        s.execute(Membership.__table__.update().where(Membership.user_id == desk.users["agent"]).values(capacity=1))
        routing.add_rule(s, workspace_id=ws.id, name="all", team_id=team.id, conditions={}, actor=SYSTEM)
    deliver(engine, desk.channel_id, [incoming("f1", "uno", handle="x1"), incoming("f2", "dos", handle="x2")])
    with session_scope(engine) as s:
        assigned = [c.assignee_id for c in s.scalars(select(Case).order_by(Case.id))]
        assert assigned == [desk.users["agent"], None]


def test_goodwill_above_authority_waits_for_a_lead(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("g1", "Cancelaron mi vuelo y perdí la conexión", handle="lola")])
    agent = client_for("agent")
    token = csrf(agent, "/cases/1")
    agent.post("/cases/1/resolve", data={"csrf_token": token, "outcome": "Reubicada y compensada",
                                         "classification": "justified", "goodwill_kind": "refund",
                                         "goodwill_value": "250", "currency": "EUR"})
    with session_scope(engine) as s:
        assert s.get(Case, 1).status != "resolved"
    page = agent.get("/cases/1").text
    assert "Waiting for a lead&#39;s approval" in page or "Waiting for a lead's approval" in page
    assert agent.post("/cases/1/approval", data={"csrf_token": token, "decision": "approve"},
                      follow_redirects=False).status_code == 403
    lead = client_for("lead")
    assert "#1" in lead.get("/goodwill").text
    lead.post("/cases/1/approval",
              data={"csrf_token": csrf(lead), "decision": "approve", "comment": "OK, cliente fiel"})
    with session_scope(engine) as s:
        case = s.get(Case, 1)
        assert case.status == "resolved"
        steps = workflow.checklist(s, case=case)
        assert steps["fix"] is not None and steps["offer_more"] is not None
    timeline = lead.get("/cases/1").text
    assert "case.approval_requested" in timeline and "case.approval_granted" in timeline


def test_within_authority_resolves_at_once_and_bad_input_is_refused(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("g2", "El wifi no funcionaba", handle="pepe")])
    with session_scope(engine) as s:
        agent = principal_for(s, user_id=desk.users["agent"])
        case = s.get(Case, 1)
        with pytest.raises(CaseError, match="classification"):
            workflow.resolve(s, case=case, principal=agent, outcome="x", classification="maybe")
        with pytest.raises(CaseError, match="not an amount"):
            workflow.resolve(s, case=case, principal=agent, outcome="x", classification="justified",
                             goodwill_kind="voucher", goodwill_value="diez")
        workflow.resolve(s, case=case, principal=agent, outcome="Bono de 20 €", classification="justified",
                         goodwill_kind="voucher", goodwill_value="20")
        assert case.status == "resolved"


def test_hand_off_and_checklist(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("h1", "Necesito ayuda con mi reserva", handle="ana")])
    agent = client_for("agent")
    token = csrf(agent, "/cases/1")
    assert "error=" in agent.post("/cases/1/handoff", data={"csrf_token": token, "via": "phone", "summary": ""},
                                  follow_redirects=False).headers["location"]
    agent.post("/cases/1/handoff", data={"csrf_token": token, "via": "phone", "summary": "Llamada de 5 min, resuelto"})
    agent.post("/cases/1/checklist", data={"csrf_token": token, "step": "ask_open_questions"})
    with session_scope(engine) as s:
        steps = workflow.checklist(s, case=s.get(Case, 1))
        assert steps["request_data_privately"].automatic is True
        assert steps["ask_open_questions"].done_by == "agent@brisa.test"
    assert "Llamada de 5 min" in agent.get("/cases/1").text


def test_routing_page_for_leads_only(engine, desk: Desk) -> None:
    with session_scope(engine) as s:
        create_team(s, workspace=s.get(Workspace, desk.workspace_id), name="Team A", member_ids=[])
    assert client_for("agent").get("/admin/routing").status_code == 403
    lead = client_for("lead")
    token = csrf(lead, "/admin/routing")
    lead.post("/admin/routing", data={"csrf_token": token, "name": "Seguridad", "team_id": "1",
                                      "reason": "safety", "auto_assign": "1"})
    bad = lead.post("/admin/routing", data={"csrf_token": token, "name": "x", "team_id": "1",
                                            "min_followers": "lots"}, follow_redirects=False)
    assert "error=" in bad.headers["location"]
    assert "Seguridad" in lead.get("/admin/routing").text
