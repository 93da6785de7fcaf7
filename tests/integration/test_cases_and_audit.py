"""Working a case leaves a full, tamper-evident record of who did what and when."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import Desk, deliver, incoming
from ventanilla.accounts.service import principal_for
from ventanilla.audit.guard import AuditImmutableError
from ventanilla.audit.models import AuditEvent
from ventanilla.audit.service import verify
from ventanilla.cases import service
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.db import session_factory, session_scope


def open_case(engine, desk: Desk) -> int:
    deliver(engine, desk.channel_id, [incoming("c1", "La app no me deja facturar", handle="rosa")])
    with session_scope(engine) as s:
        return s.scalars(select(Case.id)).one()


def test_assign_status_and_note_appear_in_the_timeline(engine, desk: Desk) -> None:
    case_id = open_case(engine, desk)
    with session_scope(engine) as s:
        agent = principal_for(s, user_id=desk.users["agent"])
        case = service.get_case(s, workspace_id=desk.workspace_id, case_id=case_id)
        service.assign(s, case=case, assignee_id=agent.user_id, actor=agent.actor)
        service.set_status(s, case=case, status=CaseStatus.waiting, actor=agent.actor)
        service.add_note(s, case=case, user_id=agent.user_id, body="Pedido el localizador por DM", actor=agent.actor)
    with session_scope(engine) as s:
        case = service.get_case(s, workspace_id=desk.workspace_id, case_id=case_id)
        steps = service.timeline(s, case=case)
        assert [e.action for e in steps] == ["case.opened", "case.assigned", "case.status_changed",
                                             "case.note_added"]
        assert steps[1].actor == "agent@brisa.test"
        assert steps[2].detail["before"]["status"] == "open" and steps[2].detail["after"]["status"] == "waiting"
        assert case.status == "waiting"


def test_the_workflow_refuses_impossible_moves_and_empty_notes(engine, desk: Desk) -> None:
    case_id = open_case(engine, desk)
    with session_scope(engine) as s:
        agent = principal_for(s, user_id=desk.users["agent"])
        case = service.get_case(s, workspace_id=desk.workspace_id, case_id=case_id)
        with pytest.raises(service.CaseError, match="cannot become closed"):
            service.set_status(s, case=case, status=CaseStatus.closed, actor=agent.actor)
        with pytest.raises(service.CaseError, match="cannot be empty"):
            service.add_note(s, case=case, user_id=agent.user_id, body="   ", actor=agent.actor)
        with pytest.raises(service.CaseError, match="cannot be assigned"):
            service.assign(s, case=case, assignee_id=desk.users["analyst"], actor=agent.actor)


def test_two_agents_taking_the_same_case_at_once_exactly_one_wins(engine, desk: Desk) -> None:
    case_id = open_case(engine, desk)
    with session_scope(engine) as s:
        version = service.get_case(s, workspace_id=desk.workspace_id, case_id=case_id).version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(role: str) -> None:
        # Both agents saw the same version of the case on their screens, then press at once.
        barrier.wait()
        s = session_factory(engine)()
        try:
            me = principal_for(s, user_id=desk.users[role])
            case = service.get_case(s, workspace_id=desk.workspace_id, case_id=case_id)
            service.assign(s, case=case, assignee_id=me.user_id, actor=me.actor, expected_version=version)
            s.commit()
            outcomes[role] = "won"
        except service.CaseConflict as exc:
            outcomes[role] = f"lost to {exc.holder}"
        finally:
            s.close()

    threads = [threading.Thread(target=take, args=(r,)) for r in ("agent", "lead")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(o.split()[0] for o in outcomes.values()) == ["lost", "won"]
    winner = next(r for r, o in outcomes.items() if o == "won")
    loser = next(o for o in outcomes.values() if o != "won")
    assert loser == f"lost to {winner.title()} Person"
    with session_scope(engine) as s:
        assert s.get(Case, case_id).assignee_id == desk.users[winner]
        assert verify(s).ok


def test_audit_chain_verifies_and_finds_a_tampered_row(engine, db_url: str, desk: Desk) -> None:
    open_case(engine, desk)
    with session_scope(engine) as s:
        result = verify(s)
        assert result.ok and result.checked >= 8
        victim = s.scalars(select(AuditEvent.id).order_by(AuditEvent.id).offset(3)).first()
    with engine.begin() as conn:
        # Tampering "by hand" means going around the guards, as an attacker with DB access would.
        if db_url.startswith("sqlite"):
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id"), {"id": victim})
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
            conn.execute(text("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id"), {"id": victim})
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))
    with session_scope(engine) as s:
        result = verify(s)
    assert not result.ok and result.broken_id == victim and "content" in result.reason


def test_the_database_and_the_application_refuse_to_change_audit_events(engine, desk: Desk) -> None:
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    with pytest.raises(AuditImmutableError), session_scope(engine) as s:
        event = s.scalars(select(AuditEvent)).first()
        event.actor = "x"
        s.flush()
