"""Ingest writes chunks whole, in order and in the calling thread: a failing write stops the import
with its error and nothing after it is written; a read error comes out after the whole chunks read
before it are stored (the partial chunk is not); no thread of the import outlives it."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Desk
from ventanilla.db import session_scope
from ventanilla.ingest import importer
from ventanilla.ingest.files import FileError
from ventanilla.ingest.models import Post

HEADER = "id,created_at,lang,text,sentiment,brand,author,retweet_count\n"


def write_csv(path: Path, ids: range, *, bad: Collection[int] = ()) -> Path:
    path.write_text(HEADER + "".join(
        f"{i},{'not-a-date' if i in bad else f'2026-11-20T17:{i % 60:02d}:00Z'},en,Where is my bag #{i},,"
        f"Brisa,user{i % 7},0\n" for i in ids))
    return path


def stored(engine) -> list[int]:
    with session_scope(engine) as s:
        return sorted(int(x) for x in s.scalars(select(Post.external_id)))


def import_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith(("triage-ahead", "ingest-reader"))}


@pytest.fixture
def writes(monkeypatch) -> list[tuple[str, list[str]]]:
    """Each chunk written: the thread that writes it and its posts' ids."""
    made: list[tuple[str, list[str]]] = []
    real = importer.accept

    def accept(session, *, channel, posts, **kwargs):  # type: ignore[no-untyped-def]
        made.append((threading.current_thread().name, [p.external_id for p in posts]))
        return real(session, channel=channel, posts=posts, **kwargs)

    monkeypatch.setattr(importer, "accept", accept)
    return made


def test_chunks_are_written_whole_in_order_by_the_calling_thread(
        tmp_path: Path, engine, desk: Desk, writes) -> None:
    calls: list[tuple[str, int]] = []
    path = write_csv(tmp_path / "a.csv", range(1, 36), bad={4, 33})
    summary = importer.import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa", chunk=10,
                                   progress=lambda n: calls.append((threading.current_thread().name, n)))
    assert (summary.new, summary.duplicate, summary.rejected) == (33, 0, 2)
    me = threading.current_thread().name
    good = [str(i) for i in range(1, 36) if i not in {4, 33}]
    assert writes == [(me, good[0:10]), (me, good[10:20]), (me, good[20:30]), (me, good[30:])]
    # The progress callback: every line once (rejections one by one), always in this thread.
    assert {name for name, _ in calls} == {me}
    assert sum(n for _, n in calls) == 35 and sorted(n for _, n in calls if n != 1) == [3, 10, 10, 10]
    assert stored(engine) == [int(x) for x in good]
    assert import_threads() == set()


def test_a_failing_write_keeps_the_chunks_before_and_writes_nothing_after(
        tmp_path: Path, engine, desk: Desk, monkeypatch) -> None:
    real = importer.accept
    calls = 0

    def accept(session, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        return real(session, **kwargs)

    monkeypatch.setattr(importer, "accept", accept)
    path = write_csv(tmp_path / "a.csv", range(1, 46))
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa", chunk=10)
    assert calls == 2  # chunks read after the failing one: none of them was written
    assert stored(engine) == list(range(1, 11))
    assert import_threads() == set()
    # Run again, it goes on where it stopped.
    monkeypatch.setattr(importer, "accept", real)
    summary = importer.import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa", chunk=10)
    assert (summary.new, summary.duplicate) == (35, 10)
    assert stored(engine) == list(range(1, 46))


def test_a_read_error_comes_out_after_the_whole_chunks_read_before_it(
        tmp_path: Path, engine, desk: Desk, monkeypatch, writes) -> None:
    real = importer._stream

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        unknown, items = real(*args, **kwargs)

        def broken() -> Iterator[object]:
            for n, item in enumerate(items, start=1):
                yield item
                if n == 25:
                    raise FileError("the disk went away")

        return unknown, broken()

    monkeypatch.setattr(importer, "_stream", failing)
    progress: list[int] = []
    path = write_csv(tmp_path / "a.csv", range(1, 46), bad={3})
    with pytest.raises(FileError, match="the disk went away"):
        importer.import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa", chunk=10,
                             progress=progress.append)
    # 25 lines read: one rejected, two whole chunks written; the 4 posts after them are not.
    assert stored(engine) == [i for i in range(1, 22) if i != 3]
    assert [len(ids) for _, ids in writes] == [10, 10]
    assert sum(progress) == 21
    assert import_threads() == set()


def test_an_error_in_the_first_chunk_read_writes_nothing(tmp_path: Path, engine, desk: Desk, monkeypatch) -> None:
    real = importer._stream

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        unknown, items = real(*args, **kwargs)

        def broken() -> Iterator[object]:
            yield next(items)
            raise MemoryError

        return unknown, broken()

    monkeypatch.setattr(importer, "_stream", failing)
    with pytest.raises(MemoryError):
        importer.import_file(write_csv(tmp_path / "a.csv", range(1, 5)), workspace_id=desk.workspace_id,
                             channel_slug="x-brisa", chunk=10)
    assert stored(engine) == []
    assert import_threads() == set()
