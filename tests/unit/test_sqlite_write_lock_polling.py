"""`db.poll_write_lock`: a SQLite writer that asks for the write lock every few milliseconds gets
it as soon as another writer lets go, restores the connection's busy timeout, and after its
patience fails with SQLAlchemy's own error (not the driver's)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from ventanilla import db


def _holder(path: Path, hold: float, held: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(hold)
    conn.execute("COMMIT")
    conn.close()


def _waiter(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _locked(tmp_path: Path, hold: float) -> tuple[threading.Thread, sqlite3.Connection]:
    """Another writer holding the lock for ``hold`` seconds, and a connection that wants it."""
    path = tmp_path / "lock.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    held = threading.Event()
    holder = threading.Thread(target=_holder, args=(path, hold, held))
    holder.start()
    held.wait()
    return holder, _waiter(path)


def test_the_lock_is_taken_soon_after_the_other_writer_commits(tmp_path: Path) -> None:
    holder, conn = _locked(tmp_path, 0.3)
    start = time.monotonic()
    db._begin_polling(conn)
    waited = time.monotonic() - start
    holder.join()
    assert conn.in_transaction
    assert 0.2 < waited < 2.0  # it waited for the other writer, then went in
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    conn.execute("ROLLBACK")
    conn.close()


def test_after_its_patience_it_fails_with_sqlalchemys_error(tmp_path: Path) -> None:
    holder, conn = _locked(tmp_path, 0.5)
    with pytest.raises(OperationalError, match="locked"):
        db._begin_polling(conn, patience=0.05)
    assert not conn.in_transaction
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    holder.join()
    conn.close()


def test_a_process_that_polls_uses_it_for_its_writing_sessions(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    calls: list[object] = []
    real = db._begin_polling
    monkeypatch.setattr(db, "_begin_polling", lambda raw: (calls.append(raw), real(raw)))
    engine = db.make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    try:
        with db.session_factory(engine)() as s:  # before: the driver's own busy handler
            s.execute(text("SELECT 1"))
        assert calls == []
        monkeypatch.setattr(db, "_POLL_WRITE_LOCK", False)
        db.poll_write_lock()
        with db.session_factory(engine)() as s:
            s.execute(text("SELECT 1"))
        with db.session_factory(engine, readonly=True)() as s:  # readers never queue for the lock
            s.execute(text("SELECT 1"))
        assert len(calls) == 1
    finally:
        engine.dispose()
