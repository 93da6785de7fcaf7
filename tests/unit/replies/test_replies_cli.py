"""The `ventanilla replies` commands, driven as a user would through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ventanilla.replies.cli import app
from ventanilla.replies.labelled_set import SHIPPED_SET
from ventanilla.replies.lint.rudeness_model import MODEL_PATH

runner = CliRunner()


def test_lint_json_contract() -> None:
    result = runner.invoke(app, ["lint", "--lang", "es", "--json", "Lamentamos las molestias ocasionadas."])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert set(payload) == {"findings"}
    assert payload["findings"], "a canned apology alone must be flagged"
    for finding in payload["findings"]:
        assert set(finding) == {"rule", "severity", "start", "end", "suggestion"}
        assert finding["severity"] in ("low", "medium", "high")
        assert isinstance(finding["start"], int) and isinstance(finding["end"], int)
    assert {f["rule"] for f in payload["findings"]} >= {"indifference", "no_next_step"}


def test_lint_reads_standard_input_and_exits_zero_with_findings() -> None:
    result = runner.invoke(app, ["lint", "--lang", "en", "--json"], input="Stop complaining.\n")
    assert result.exit_code == 0
    rules = {f["rule"] for f in json.loads(result.output)["findings"]}
    assert "rudeness" in rules


def test_lint_clean_reply_gives_empty_findings() -> None:
    text = "@ana Gracias por avisarnos y perdona el retraso. Escríbenos por DM y te respondemos hoy. ^Lucía"
    result = runner.invoke(app, ["lint", "--lang", "es", "--network", "x", "--json", text])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"findings": []}


def test_lint_human_output_highlights_the_span() -> None:
    result = runner.invoke(app, ["lint", "--lang", "es", "Deje de quejarse, pesado."])
    assert result.exit_code == 0
    assert "rudeness" in result.output
    assert "⟦pesado⟧" in result.output
    assert "→" in result.output


def test_lint_private_and_follow_up_flags() -> None:
    text = "Gracias, Ana. Te llamamos al 612 345 678 hoy a las 18:00. Perdona la espera."
    public = runner.invoke(app, ["lint", "--lang", "es", "--public", "--json", text])
    private = runner.invoke(app, ["lint", "--lang", "es", "--private", "--json", text])
    assert "personal_data_public" in {f["rule"] for f in json.loads(public.output)["findings"]}
    assert json.loads(private.output)["findings"] == []


def test_lint_bad_usage_exits_2() -> None:
    assert runner.invoke(app, ["lint", "--lang", "fr", "hola"]).exit_code == 2
    assert runner.invoke(app, ["lint", "--lang", "es"], input="").exit_code == 2
    assert runner.invoke(app, ["lint", "--lang", "es", "--bogus", "x"]).exit_code == 2


def test_evaluate_prints_rules_and_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(SHIPPED_SET), "--split", "test"])
    assert result.exit_code == 0
    assert "no_next_step" in result.output and "precision" in result.output
    as_json = runner.invoke(app, ["evaluate", str(SHIPPED_SET), "--split", "test", "--json"])
    payload = json.loads(as_json.output)
    assert payload["split"] == "test"
    assert set(payload["rules"]) >= {"rudeness", "shouting"}
    with_errors = runner.invoke(app, ["evaluate", str(SHIPPED_SET), "--split", "test", "--errors"])
    assert "missed" in with_errors.output
    missing = runner.invoke(app, ["evaluate", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2


def test_draft_prints_a_reply() -> None:
    result = runner.invoke(
        app,
        ["draft", "--lang", "es", "--reason", "late", "--intent", "wants_fix", "--stage",
         "first_public", "--network", "x", "--handle", "marta", "--agent", "Lucía",
         "--brand", "Trenes del Norte", "--json"],
    )
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["text"].startswith("@marta ")
    assert payload["text"].endswith("Lucía")
    assert payload["fits"] is True and payload["length"] <= 280
    bad = runner.invoke(app, ["draft", "--lang", "es", "--reason", "nope"])
    assert bad.exit_code == 2


def test_train_writes_a_model(tmp_path: Path) -> None:
    out = tmp_path / "model.json"
    result = runner.invoke(app, ["train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["trained_on"] > 300
    assert out.exists() and out.stat().st_size < 500_000
    # Training is reproducible: the shipped model is what the shipped set trains. Exactly, but for
    # the last rounded digit of a weight: another CPU's floating-point paths can move a weight
    # across a rounding boundary (and so the version, a digest of the weights).
    trained, shipped = json.loads(out.read_text()), json.loads(MODEL_PATH.read_text())
    assert trained.keys() == shipped.keys()
    assert {k: v for k, v in trained.items() if k not in ("weights", "version")} == {
        k: v for k, v in shipped.items() if k not in ("weights", "version")}
    assert trained["weights"].keys() == shipped["weights"].keys()
    assert all(abs(trained["weights"][k] - w) <= 2e-5 for k, w in shipped["weights"].items())
