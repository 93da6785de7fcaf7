"""The web app over HTTP: sign-in, roles, CSRF, escaping, the inbox, webhooks and the API."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import PASSWORD, Desk, deliver, incoming
from ventanilla.db import session_scope
from ventanilla.ingest.channels import sign
from ventanilla.ingest.models import Post


@pytest.fixture
def client(desk: Desk) -> TestClient:
    from ventanilla.web.app import create_app

    return TestClient(create_app(), base_url="http://127.0.0.1", headers={"Accept-Language": "en"})


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, role: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"email": f"{role}@brisa.test", "password": password,
                                       "csrf_token": token, "next": "/"}, follow_redirects=False)


def test_sign_in_shows_the_inbox_and_wrong_password_gets_a_generic_error(
        client: TestClient, engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("w1", "Vuelo cancelado sin aviso", handle="lola")])
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    bad = sign_in(client, "agent", "wrong-password-123")
    assert bad.status_code == 401 and "E-mail or password is not right." in bad.text
    unknown = client.post("/login", data={"email": "nobody@brisa.test", "password": "x" * 12,
                                          "csrf_token": csrf_of(client.get("/login").text)})
    assert unknown.status_code == 401 and unknown.text.count("error") == bad.text.count("error")
    ok = sign_in(client, "agent")
    assert ok.status_code == 303
    inbox = client.get("/")
    assert inbox.status_code == 200 and "@lola" in inbox.text and "Vuelo cancelado" in inbox.text


def test_repeated_failures_are_rate_limited(client: TestClient, desk: Desk) -> None:
    for _ in range(5):
        assert sign_in(client, "agent", "wrong-password-123").status_code == 401
    assert sign_in(client, "agent").status_code == 429  # even the right password waits


def test_forms_without_the_csrf_token_are_refused(client: TestClient, engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("w2", "Hola", handle="lola")])
    sign_in(client, "agent")
    response = client.post("/cases/1/notes", data={"body": "sin token"})
    assert response.status_code == 403
    with session_scope(engine) as s:
        from ventanilla.cases.models import Note

        assert s.scalar(select(func.count()).select_from(Note)) == 0


@pytest.mark.parametrize("role, method, path, expected", [
    ("agent", "GET", "/admin/users", 403),
    ("analyst", "POST", "/cases/1/assign", 403),
    ("crisis", "POST", "/cases/1/notes", 403),
    ("admin", "GET", "/admin/users", 200),
])
def test_roles_are_enforced_on_every_route(client: TestClient, engine, desk: Desk, role: str,
                                           method: str, path: str, expected: int) -> None:
    deliver(engine, desk.channel_id, [incoming("w3", "Hola", handle="lola")])
    sign_in(client, role)
    token = csrf_of(client.get("/").text)
    response = client.request(method, path, data={"csrf_token": token, "body": "x", "assignee": "me"},
                              follow_redirects=False)
    assert response.status_code == expected


def test_script_and_sql_in_posts_are_shown_escaped(client: TestClient, engine, desk: Desk) -> None:
    nasty = "<script>alert('x')</script> Robert'); DROP TABLE post;-- 😡 שלום"
    deliver(engine, desk.channel_id, [incoming("w4", nasty, handle="eve")])
    sign_in(client, "agent")
    page = client.get("/cases/1").text
    assert "<script>alert" not in page
    # Escaped (the words that drove a label may be wrapped in <mark>, nothing else is markup).
    assert "&lt;script&gt;" in page and "&lt;/script&gt;" in page and "😡" in page and "שלום" in page


def test_case_page_actions_are_recorded_in_the_timeline(client: TestClient, engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("w5", "Me cobrasteis dos veces", handle="lola")])
    sign_in(client, "agent")
    token = csrf_of(client.get("/cases/1").text)
    assert client.post("/cases/1/assign", data={"csrf_token": token, "assignee": "me"},
                       follow_redirects=False).status_code == 303
    client.post("/cases/1/status", data={"csrf_token": token, "status": "waiting"})
    client.post("/cases/1/notes", data={"csrf_token": token, "body": "Revisar cobro <b>doble</b>"})
    page = client.get("/cases/1").text
    assert 'data-action="case.assigned">assigned the case' in page
    assert "Revisar cobro &lt;b&gt;doble&lt;/b&gt;" in page
    assert "agent@brisa.test" in page


def test_inbox_filters_and_keyboard_assignment_conflict(client: TestClient, engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("f1", "Maleta perdida en Madrid", handle="ana", language="es"),
                                      incoming("f2", "Lost my bag in Boston", handle="tom", language="en")])
    sign_in(client, "agent")
    assert "Boston" in client.get("/?language=en").text
    assert "Boston" not in client.get("/?language=es").text
    assert "Madrid" in client.get("/?q=maleta").text
    token = csrf_of(client.get("/").text)
    first = client.post("/cases/1/assign", data={"csrf_token": token, "assignee": "me", "version": "1"},
                        headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.json()["ok"]
    stale = client.post("/cases/1/assign", data={"csrf_token": token, "assignee": "me", "version": "1"},
                        headers={"Accept": "application/json"})
    assert stale.status_code == 409 and stale.json()["holder"] == "Agent Person"
    assert "Agent Person" in client.get("/?assignee=me").text


def test_signed_webhook_stores_once_and_bad_signatures_store_nothing(
        client: TestClient, engine, desk: Desk) -> None:
    body = json.dumps({"posts": [{"external_id": "h1", "text": "Retraso de 4 horas 😤",
                                  "created_at": "2026-11-20T17:00:00Z", "author": {"handle": "pepa"}},
                                 {"external_id": "h2", "text": "x", "created_at": "yesterday",
                                  "author": {"handle": "pepa"}}]}).encode()
    url = f"/api/v1/webhooks/{desk.channel_id}"
    assert client.post(url, content=body).status_code == 401
    assert client.post(url, content=body, headers={"X-Ventanilla-Signature": "sha256=00"}).status_code == 401
    signature = sign("whsec-test", body)
    first = client.post(url, content=body, headers={"X-Ventanilla-Signature": signature})
    assert first.status_code == 200
    assert first.json()["new"] == 1 and first.json()["rejected"][0]["index"] == 1
    again = client.post(url, content=body, headers={"X-Ventanilla-Signature": signature})
    assert again.json() == {"new": 0, "duplicate": 1, "rejected": first.json()["rejected"]}
    broken = b"{not json"
    headers = {"X-Ventanilla-Signature": sign("whsec-test", broken)}
    assert client.post(url, content=broken, headers=headers).status_code == 400
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Post)) == 1


def test_api_with_a_personal_token(client: TestClient, engine, desk: Desk) -> None:
    from ventanilla.accounts.models import User
    from ventanilla.accounts.service import create_api_token

    deliver(engine, desk.channel_id, [incoming("a1", "¿Cuánto equipaje puedo llevar?", handle="lu")])
    with session_scope(engine) as s:
        token = create_api_token(s, user=s.get(User, desk.users["agent"]), name="tests")
        analyst = create_api_token(s, user=s.get(User, desk.users["analyst"]), name="tests")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer vt_wrong"}).status_code == 401
    cases = client.get("/api/v1/cases", headers=auth).json()
    assert cases["total"] == 1
    case_id = cases["items"][0]["id"]
    posts = client.get(f"/api/v1/cases/{case_id}/posts", headers=auth).json()
    assert posts[0]["text"] == "¿Cuánto equipaje puedo llevar?"
    # Triage's labels with what explains them, as one document (stored in two columns).
    assert posts[0]["labels"]["language"] == "es" and posts[0]["labels"]["details"]["sentiment"]["confidence"] > 0
    note = client.post(f"/api/v1/cases/{case_id}/notes", json={"body": "Respondido"}, headers=auth)
    assert note.status_code == 201
    assert client.post(f"/api/v1/cases/{case_id}/notes", json={"body": ""}, headers=auth).status_code == 422
    assert client.post(f"/api/v1/cases/{case_id}/notes", json={"body": "x"},
                       headers={"Authorization": f"Bearer {analyst}"}).status_code == 403
    author = client.get(f"/api/v1/authors/{posts[0]['author_id']}", headers=auth).json()
    assert author["handle"] == "lu"
    assert client.get("/api/openapi.json").json()["info"]["title"] == "ventanilla"
