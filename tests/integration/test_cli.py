"""The command line: set-up, import, users, export and audit verification, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import Desk
from ventanilla.cli import app

runner = CliRunner()


def test_init_creates_the_first_admin_and_is_repeatable(db_url: str) -> None:
    first = runner.invoke(app, ["init", "--workspace", "acme", "--admin-email", "boss@acme.test"])
    assert first.exit_code == 0, first.output
    assert "boss@acme.test" in first.output and "password" in first.output
    again = runner.invoke(app, ["init", "--workspace", "acme", "--admin-email", "boss@acme.test"])
    assert again.exit_code == 0 and "already exists" in again.output


def test_ingest_prints_counts_and_writes_the_rejection_report(tmp_path: Path, desk: Desk) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("id,text,author\n1,Hola,ana\n2,,ana\n")
    result = runner.invoke(app, ["ingest", str(path), "--workspace", desk.slug, "--channel", "x-brisa", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["new"], counts["duplicate"], counts["rejected"]) == (1, 0, 1)
    assert "empty text" in Path(counts["report"]).read_text()
    bad_map = runner.invoke(app, ["ingest", str(path), "--workspace", desk.slug, "--map", "nonsense"])
    assert bad_map.exit_code == 2 and "FIELD=COLUMN" in bad_map.output
    missing = runner.invoke(app, ["ingest", str(tmp_path / "nope.csv"), "--workspace", desk.slug])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_users_and_export(tmp_path: Path, desk: Desk) -> None:
    added = runner.invoke(app, ["users", "add", "new@brisa.test", "--name", "Nuria Nueva", "--role", "agent",
                                "--workspace", desk.slug, "--password", "long-enough-pass"])
    assert added.exit_code == 0, added.output
    short = runner.invoke(app, ["users", "add", "x@brisa.test", "--name", "X", "--workspace", desk.slug,
                                "--password", "short"])
    assert short.exit_code == 1 and "at least 10" in short.output
    role = runner.invoke(app, ["users", "set-role", "new@brisa.test", "lead", "--workspace", desk.slug])
    assert role.exit_code == 0
    wrong = runner.invoke(app, ["users", "set-role", "new@brisa.test", "emperor", "--workspace", desk.slug])
    assert wrong.exit_code == 2
    out = tmp_path / "cases.json"
    exported = runner.invoke(app, ["export", "cases", "--workspace", desk.slug, "--format", "json", "-o", str(out)])
    assert exported.exit_code == 0 and json.loads(out.read_text()) == []


def test_audit_verify_exit_codes(desk: Desk) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0 and "events checked" in result.output
