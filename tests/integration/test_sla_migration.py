"""Migration 0013 moves each clock's computed columns to `case_sla_clock` and back. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect, select, text

DUE = datetime(2026, 12, 9, 8, 30, tzinfo=UTC)



def _one_clock(url: str) -> int:
    import ventanilla.all_models  # noqa: F401
    from ventanilla.accounts.models import Workspace
    from ventanilla.cases.models import Case
    from ventanilla.db import get_engine, session_scope
    from ventanilla.ingest.models import Author, Channel
    from ventanilla.sla.models import CaseSla

    with session_scope(get_engine(url)) as s:
        workspace = Workspace(slug="m", name="M", timezone="Europe/Madrid", settings={})
        s.add(workspace)
        s.flush()
        channel = Channel(workspace_id=workspace.id, slug="x", name="X", network="x")
        author = Author(workspace_id=workspace.id, network="x", handle="someone")
        s.add_all([channel, author])
        s.flush()
        case = Case(workspace_id=workspace.id, author_id=author.id, channel_id=channel.id, status="open",
                    priority=3, subject="s", opened_at=DUE, last_activity_at=DUE, post_count=1, version=1)
        s.add(case)
        s.flush()
        clock = CaseSla(case_id=case.id, workspace_id=workspace.id, started_at=DUE, first_response_seconds=3600.0,
                        first_response_due=DUE, first_response_state="at_risk", resolution_seconds=7200.0,
                        resolution_state="on_track", next_check=1234.5, updated_at=DUE)
        s.add(clock)
        s.flush()
        return clock.id


def test_upgrade_moves_computed_columns_and_downgrade_restores_them(scratch_url: str) -> None:
    from alembic import command

    from ventanilla.db import dispose_engines, get_engine, session_scope
    from ventanilla.migrate import alembic_config, upgrade
    from ventanilla.sla.models import CaseSla

    upgrade(scratch_url)
    clock_id = _one_clock(scratch_url)
    dispose_engines()

    command.downgrade(alembic_config(scratch_url), "0012")
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        assert "case_sla_clock" not in inspect(conn).get_table_names()
        assert "ix_case_sla_next_check" in {ix["name"] for ix in inspect(conn).get_indexes("case_sla")}
        row = conn.execute(text("SELECT first_response_state, resolution_state, next_response_state, next_check "
                                "FROM case_sla WHERE id = :id"), {"id": clock_id}).one()
    engine.dispose()
    assert tuple(row) == ("at_risk", "on_track", None, 1234.5)

    upgrade(scratch_url)
    with session_scope(get_engine(scratch_url)) as s:
        clock = s.scalar(select(CaseSla).where(CaseSla.id == clock_id))
        assert clock is not None
        assert clock.first_response_due == DUE and clock.first_response_state == "at_risk"
        assert clock.resolution_state == "on_track" and clock.resolution_due is None
        assert clock.next_check == 1234.5
        columns = {col["name"] for col in inspect(s.connection()).get_columns("case_sla")}
    assert not columns & {"first_response_due", "first_response_state", "next_check"}
