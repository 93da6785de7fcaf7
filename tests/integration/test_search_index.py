"""Inbox search finds every post, whether the search index job has reached it yet or not."""

from __future__ import annotations

from sqlalchemy import text, update

from tests.conftest import Desk, deliver, incoming
from ventanilla.cases.search import index_pending
from ventanilla.cases.service import InboxFilter, inbox
from ventanilla.db import session_scope
from ventanilla.ingest.models import Post


def _found(engine, desk: Desk, query: str) -> list[str]:
    with session_scope(engine) as s:
        page = inbox(s, workspace_id=desk.workspace_id, user_id=desk.users["agent"],
                     filters=InboxFilter(q=query))
        return sorted(row.author.handle for row in page.rows)


def test_search_finds_posts_before_and_after_they_are_indexed(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [
        incoming("s1", "Mi maleta llegó rota a Madrid", handle="ana"),
        incoming("s2", "El vuelo a Sevilla salió tarde", handle="luis"),
    ])
    assert _found(engine, desk, "maleta") == ["ana"]  # not indexed yet: scanned
    with session_scope(engine) as s:
        first = index_pending(s)
    assert first == 2
    assert _found(engine, desk, "maleta") == ["ana"]  # indexed: found once, from the index
    assert _found(engine, desk, "sevill") == ["luis"]

    deliver(engine, desk.channel_id, [incoming("s3", "Otra maleta perdida en Sevilla", handle="eva")])
    assert _found(engine, desk, "maleta") == ["ana", "eva"]  # one indexed, one not
    with session_scope(engine) as s:
        assert index_pending(s) == 1
        assert index_pending(s) == 0  # nothing left: the job is idempotent


def test_search_follows_a_changed_text_of_an_indexed_post(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("c1", "Mi maleta llegó rota", handle="ana")])
    with session_scope(engine) as s:
        index_pending(s)
        s.execute(update(Post).where(Post.external_id == "c1").values(text="[borrado a petición del autor]"))
    assert _found(engine, desk, "maleta") == []
    assert _found(engine, desk, "borrado") == ["ana"]
    if engine.dialect.name == "sqlite":
        with session_scope(engine) as s:
            check = s.execute(text("INSERT INTO post_search(post_search) VALUES ('integrity-check')"))
            assert check is not None  # raises if the index and the posts disagree
