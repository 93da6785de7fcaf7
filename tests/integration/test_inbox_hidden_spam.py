"""The inbox leaves out cases whose every customer post is spam a lead folded away, and lists them
on request ("hidden" filter), on SQLite and PostgreSQL, over HTTP and through the service."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from tests.conftest import PASSWORD, Desk, deliver, incoming
from ventanilla.audit.service import Actor
from ventanilla.cases import guardrails
from ventanilla.cases.models import Case
from ventanilla.cases.service import InboxFilter, inbox
from ventanilla.db import session_scope
from ventanilla.ingest.models import Author, Post


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def sign_in(client: TestClient, role: str) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post("/login", data={"email": f"{role}@brisa.test", "password": PASSWORD,
                                           "csrf_token": token.group(1), "next": "/"}, follow_redirects=False)
    assert response.status_code == 303


def case_of(engine: Engine, handle: str) -> int:
    with session_scope(engine) as s:
        case_id = s.scalar(select(Case.id).join(Author, Author.id == Case.author_id).where(Author.handle == handle))
        assert case_id is not None
        return case_id


def hide(engine: Engine, desk: Desk, external_id: str, *, approve: bool = True) -> None:
    """An agent asks to fold the post away as spam; a lead approves (or rejects) it."""
    with session_scope(engine) as s:
        post = s.scalar(select(Post).where(Post.external_id == external_id))
        assert post is not None
        guardrails.request_hide_spam(s, post=post, reason="Enlace de estafa",
                                     actor=Actor("agent@brisa.test", desk.users["agent"]))
        lead = Actor("lead@brisa.test", desk.users["lead"])
        if approve:
            guardrails.approve_hide(s, post=post, lead=lead)
        else:
            guardrails.reject_hide(s, post=post, lead=lead)


def listed(engine: Engine, desk: Desk, hidden: str | None = None) -> tuple[dict[int, bool], int, int]:
    """Case id -> "all its customer posts are hidden" for one inbox page; total; hidden_total."""
    with session_scope(engine) as s:
        page = inbox(s, workspace_id=desk.workspace_id, user_id=desk.users["agent"],
                     filters=InboxFilter(hidden=hidden))
        return {row.case.id: row.hidden for row in page.rows}, page.total, page.hidden_total


def test_a_case_of_hidden_spam_leaves_the_inbox_and_the_filter_shows_it(
        client: TestClient, engine: Engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [
        incoming("s1", "GANA 5000€ AL DÍA http://spam.example", handle="bot", language="es"),
        incoming("s2", "GANA 9000€ AL DÍA http://spam.example", handle="bot", language="es",
                 created_at="2026-11-20T17:06:00Z"),
        incoming("m1", "Mi maleta no ha llegado", handle="maria", language="es"),
        incoming("x1", "Compra seguidores baratos http://spam.example", handle="mixto", language="es"),
        incoming("x2", "Y de verdad, mi vuelo salió con tres horas de retraso", handle="mixto", language="es",
                 created_at="2026-11-20T17:07:00Z"),
        incoming("r1", "OFERTA http://spam.example", handle="refused", language="es"),
    ])
    bot, maria, mixto, refused = (case_of(engine, h) for h in ("bot", "maria", "mixto", "refused"))
    everyone = {bot, maria, mixto, refused}
    assert set(listed(engine, desk)[0]) == everyone

    hide(engine, desk, "s1")
    # One of the bot's two posts is still shown: its case stays in the inbox.
    assert set(listed(engine, desk)[0]) == everyone
    hide(engine, desk, "s2")
    hide(engine, desk, "x1")  # the same author also wrote a real complaint in that case
    hide(engine, desk, "r1", approve=False)  # a lead refused: nothing is folded away

    rows, total, hidden_total = listed(engine, desk)
    assert set(rows) == {maria, mixto, refused} and total == 3 and hidden_total == 1
    rows, total, _ = listed(engine, desk, "only")
    assert rows == {bot: True} and total == 1
    rows, total, _ = listed(engine, desk, "all")
    assert rows == {bot: True, maria: False, mixto: False, refused: False} and total == 4

    sign_in(client, "agent")
    page = client.get("/").text
    assert "@maria" in page and "@mixto" in page and "@bot" not in page
    assert 'data-hidden-count="1"' in page and "1 case hidden as spam" in page
    only = client.get("/?hidden=only").text
    assert "@bot" in only and "@maria" not in only and "data-hidden-spam" in only
    assert '<option value="only" selected>' in only
    both = client.get("/?hidden=all").text
    assert "@bot" in both and "@maria" in both and both.count("data-hidden-spam") == 1
    # An unknown value is the default view.
    assert "@bot" not in client.get("/?hidden=whatever").text
    # The other filters still apply to the hidden cases.
    assert "@bot" not in client.get("/?hidden=only&language=en").text

    # The spammer's case is still stored, counted and reachable: folded away, not removed.
    case_page = client.get(f"/cases/{bot}")
    assert case_page.status_code == 200 and 'class="hidden-spam"' in case_page.text

    # The customer writes again in the same case: that post is not hidden, so the case comes back.
    deliver(engine, desk.channel_id, [incoming("s3", "Hola, ¿me podéis ayudar con mi reserva?", handle="bot",
                                               language="es", created_at="2026-11-20T17:30:00Z")])
    assert case_of(engine, "bot") == bot
    rows, total, hidden_total = listed(engine, desk)
    assert set(rows) == everyone and total == 4 and hidden_total == 0
    assert "@bot" in client.get("/").text


def test_the_api_lists_cases_with_the_same_hidden_filter(client: TestClient, engine: Engine, desk: Desk) -> None:
    from ventanilla.accounts.models import User
    from ventanilla.accounts.service import create_api_token

    deliver(engine, desk.channel_id, [
        incoming("s1", "GANA 5000€ AL DÍA http://spam.example", handle="bot", language="es"),
        incoming("m1", "Mi maleta no ha llegado", handle="maria", language="es")])
    hide(engine, desk, "s1")
    bot, maria = case_of(engine, "bot"), case_of(engine, "maria")
    with session_scope(engine) as s:
        token = create_api_token(s, user=s.get(User, desk.users["agent"]), name="tests")
    auth = {"Authorization": f"Bearer {token}"}

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/cases{query}", headers=auth)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids("") == {maria}
    assert ids("?hidden=only") == {bot}
    assert ids("?hidden=all") == {bot, maria}
    assert client.get("/api/v1/cases?hidden=bogus", headers=auth).status_code == 422
