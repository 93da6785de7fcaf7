"""The Typer sub-app: classify and evaluate, driven through CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ventanilla.triage.cli import app
from ventanilla.triage.model import Triager

runner = CliRunner()


def test_classify_json(triager: Triager) -> None:
    res = runner.invoke(app, ["classify", "@AeroSol me doy de baja, tres horas de retraso",
                              "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["language"]["value"] == "es"
    assert data["urgency"][0]["kind"] == "churn"
    assert data["model_version"] == triager.version


def test_classify_table(triager: Triager) -> None:
    res = runner.invoke(app, ["classify", "thanks for the lovely flight"])
    assert res.exit_code == 0 and "sentiment" in res.output


def test_evaluate_json_and_table(tmp_path: Path, triager: Triager) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("text,sentiment,lang\n\"@FlyNow great crew, thanks!\",positive,en\n"
                    "\"@AeroSol otra vez tarde, qué desastre\",negative,es\n", encoding="utf-8")
    res = runner.invoke(app, ["evaluate", str(path), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["tasks"]) == {"sentiment", "language"}
    res = runner.invoke(app, ["evaluate", str(path)])
    assert res.exit_code == 0 and "macro-F1" in res.output
