"""Every incoming post is labelled on ingest; the case's priority follows its impact."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import PASSWORD, Desk, deliver, incoming
from ventanilla.cases.models import Case
from ventanilla.db import session_scope
from ventanilla.ingest.models import Post


def test_posts_get_labels_evidence_urgency_and_impact(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [
        incoming("t1", "@BrisaAir habéis perdido mi maleta y nadie responde. Si no me la devolvéis hablaré "
                       "con mi abogado", handle="famosa", followers=250_000),
        incoming("t2", "Thanks @BrisaAir, lovely crew and a smooth flight!", handle="happy", followers=40),
    ])
    with session_scope(engine) as s:
        angry = s.scalar(select(Post).where(Post.external_id == "t1"))
        happy = s.scalar(select(Post).where(Post.external_id == "t2"))
        assert angry.labels["language"] == "es" and happy.labels["language"] == "en"
        assert angry.labels["complaint"] == "yes" and angry.labels["sentiment"] == "negative"
        assert happy.labels["sentiment"] == "positive"
        assert angry.labels["reason"] == "lost"
        assert "details" not in angry.labels  # the values; what explains them is a column of its own
        assert any(cue["kind"] == "legal" for cue in angry.label_details["urgency"])
        breakdown = angry.label_details["impact"]
        assert sum(breakdown.values()) == pytest.approx(angry.labels["impact"], abs=0.05)
        assert angry.labels["model_version"]
        angry_case = s.get(Case, angry.case_id)
        happy_case = s.get(Case, happy.case_id)
        assert angry_case.priority < happy_case.priority  # P1/P2 before P3/P4
        assert angry_case.language == "es"


def test_case_view_shows_labels_and_highlights_the_words_that_drove_them(engine, desk: Desk) -> None:
    from ventanilla.web.app import create_app

    deliver(engine, desk.channel_id, [incoming("t3", "Vuelo cancelado otra vez, qué vergüenza de servicio <b>",
                                               handle="lola")])
    client = TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": "agent@brisa.test", "password": PASSWORD, "csrf_token": token})
    page = client.get("/cases/1").text
    assert "data-labels" in page and "<mark>" in page and "&lt;b&gt;" in page
    assert "impact" in page
    inbox = client.get("/?complaint=yes&sentiment=negative").text
    assert "@lola" in inbox
    assert "@lola" not in client.get("/?sentiment=positive").text


def test_an_agent_corrects_a_label_it_is_kept_audited_exported_and_adapts_the_model(
        engine, desk: Desk, tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from ventanilla.cli import app
    from ventanilla.config import get_settings
    from ventanilla.web.app import create_app

    monkeypatch.setenv("VENTANILLA_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    deliver(engine, desk.channel_id, [incoming("t9", "El bocadillo del avión estaba frío", handle="rafa")])
    client = TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"email": "agent@brisa.test", "password": PASSWORD, "csrf_token": token})
    page = client.get("/cases/1").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/posts/1/labels", data={"csrf_token": token, "correction": "reason=quality"},
                       follow_redirects=False).status_code == 303
    bad = client.post("/posts/1/labels", data={"csrf_token": token, "correction": "reason=aliens"},
                      follow_redirects=False)
    assert "error=" in bad.headers["location"]
    with session_scope(engine) as s:
        post = s.get(Post, 1)
        assert post.labels["reason"] == "quality"
        assert post.label_details["reason"]["corrected_by"] == "agent@brisa.test"
    assert (tmp_path / "models" / f"workspace-{desk.workspace_id}" / "triage.json").exists()
    assert 'data-action="case.labels_corrected"' in client.get("/cases/1").text
    out = tmp_path / "corrections.csv"
    result = CliRunner().invoke(app, ["export", "corrections", "--workspace", desk.slug, "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text().splitlines()[1] == "El bocadillo del avión estaba frío,reason,quality"


def test_evidence_is_highlighted_as_whole_words_and_escaped() -> None:
    from ventanilla.web.templating import highlight

    out = str(highlight("Fuentes de la compañía <b>en</b> el avión", ["en", "la", "compañía"]))
    assert out == ("Fuentes de <mark>la</mark> <mark>compañía</mark> &lt;b&gt;<mark>en</mark>&lt;/b&gt; el avión")
