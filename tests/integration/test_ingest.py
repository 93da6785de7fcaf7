"""Ingest: files and deliveries go in once, bad lines are reported, good lines are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import Desk, deliver, incoming
from ventanilla.cases.models import Case
from ventanilla.db import session_scope
from ventanilla.ingest.files import FileError
from ventanilla.ingest.importer import import_file
from ventanilla.ingest.models import Author, Post

HEADER = "id,created_at,lang,text,sentiment,brand,author,retweet_count\n"


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def count(engine, model) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_csv_in_the_shared_shape_is_imported_once(tmp_path: Path, engine, desk: Desk) -> None:
    path = write(tmp_path, "tweets.csv", HEADER
                 + "1,2026-11-20T17:00:00Z,es,Mi vuelo lleva 3 horas de retraso,negative,Brisa,ana,2\n"
                 + "2,2026-11-20T17:05:00Z,en,Thanks for the quick help!,positive,Brisa,tom,0\n")
    first = import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa")
    again = import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa")
    assert (first.new, first.duplicate, first.rejected) == (2, 0, 0)
    assert (again.new, again.duplicate, again.rejected) == (0, 2, 0)
    assert count(engine, Post) == 2
    assert count(engine, Case) == 2
    # Label columns we do not map are kept with the post, not dropped.
    assert set(first.unknown_columns) == {"sentiment"}
    with session_scope(engine) as s:
        post = s.scalar(select(Post).where(Post.external_id == "1"))
        assert post.raw == {"sentiment": "negative"} and post.shares == 2 and post.language == "es"


def test_bad_lines_are_reported_and_good_lines_still_go_in(tmp_path: Path, engine, desk: Desk) -> None:
    huge = "x" * 1_000_001
    content = (HEADER.encode()
               + b'1,2026-11-20T17:00:00Z,es,Hola,negative,Brisa,ana,0\n'
               + b'9,2026-11-20T17:00:00Z,es,"comilla"mal puesta,negative,Brisa,ana,0\n'
               + b"2,2026-11-20T17:00:00Z,es,too,many,fields,here,x,y\n"
               + b"3,not-a-date,es,Texto,negative,Brisa,ana,0\n"
               + b"4,2026-11-20T17:00:00Z,es,caf\xe9 sin utf8,negative,Brisa,ana,0\n"
               + b"5,2026-11-20T17:00:00Z,es,,negative,Brisa,ana,0\n"
               + f"6,2026-11-20T17:00:00Z,es,{huge},negative,Brisa,ana,0\n".encode()
               + ("7,2026-11-20T18:00:00Z,es,<script>alert(1)</script> '; DROP TABLE post; -- 😡 مرحبا,"
                  "negative,Brisa,eve,0\n").encode())
    path = write(tmp_path, "mixed.csv", content)
    summary = import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa")
    assert summary.new == 2  # ids 1 and 7
    assert summary.rejected == 6
    report = summary.report.read_text(encoding="utf-8")
    assert "3,\"malformed CSV" in report
    assert "expected 8 fields, found 9" in report
    assert "is not a date and time" in report
    assert "not valid UTF-8" in report
    assert "empty text" in report
    assert "the limit is 100,000" in report
    with session_scope(engine) as s:
        stored = s.scalar(select(Post.text).where(Post.external_id == "7"))
    assert stored == "<script>alert(1)</script> '; DROP TABLE post; -- 😡 مرحبا"


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"id,body_text\n1,hola\n", "no text column"),
])
def test_whole_file_errors_are_clear(tmp_path: Path, desk: Desk, content: bytes, message: str) -> None:
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(FileError, match=message):
        import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa")


def test_column_mapping_and_encoding_option(tmp_path: Path, engine, desk: Desk) -> None:
    path = write(tmp_path, "latin.csv", "tweet,body_text,who\n10,Atención pésima,luis\n".encode("latin-1"))
    summary = import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa",
                          mapping={"id": "tweet", "text": "body_text", "author": "who"}, encoding="latin-1")
    assert summary.new == 1
    with session_scope(engine) as s:
        assert s.scalar(select(Post.text)) == "Atención pésima"
        assert s.scalar(select(Author.handle)) == "luis"


def test_jsonl_native_schema_with_bad_lines(tmp_path: Path, engine, desk: Desk) -> None:
    good = {"network": "x", "external_id": "j1", "text": "Hola", "created_at": "2026-11-20T10:00:00Z",
            "author": {"handle": "ana", "followers": 10}}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "external_id": "j2", "kind": "fax"}),
             json.dumps([1, 2]), json.dumps({**good, "external_id": "j3"})]
    path = write(tmp_path, "posts.jsonl", "\n".join(lines) + "\n")
    summary = import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa")
    assert (summary.new, summary.rejected) == (2, 3)
    report = summary.report.read_text()
    assert "not JSON" in report and "kind" in report and "JSON object" in report


def test_a_follow_up_on_the_same_channel_joins_the_open_case(engine, desk: Desk) -> None:
    deliver(engine, desk.channel_id, [incoming("p1", "Me habéis perdido la maleta", handle="lola")])
    deliver(engine, desk.channel_id, [incoming("p2", "Sigo esperando respuesta", handle="lola")])
    deliver(engine, desk.channel_id, [incoming("p3", "Otro cliente", handle="pepe")])
    with session_scope(engine) as s:
        cases = s.scalars(select(Case).order_by(Case.id)).all()
        assert [c.post_count for c in cases] == [2, 1]
        lola_posts = s.scalars(select(Post.case_id).where(Post.external_id.in_(["p1", "p2"]))).all()
        assert len(set(lola_posts)) == 1


def test_a_resolved_case_is_not_reopened_by_a_new_post(engine, desk: Desk) -> None:
    from ventanilla.audit.service import SYSTEM
    from ventanilla.cases.models import CaseStatus
    from ventanilla.cases.service import set_status

    deliver(engine, desk.channel_id, [incoming("r1", "Problema", handle="lola")])
    with session_scope(engine) as s:
        case = s.scalars(select(Case)).one()
        set_status(s, case=case, status=CaseStatus.resolved, actor=SYSTEM)
    deliver(engine, desk.channel_id, [incoming("r2", "Otro problema", handle="lola")])
    assert count(engine, Case) == 2


def test_duplicates_within_one_delivery_are_counted_once(engine, desk: Desk) -> None:
    ids = deliver(engine, desk.channel_id, [incoming("d1", "uno"), incoming("d1", "uno otra vez")])
    assert len(ids) == 1 and count(engine, Post) == 1
