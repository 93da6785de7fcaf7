"""Ctrl-C during `ventanilla ingest`, on both engines: the command stops, its helper processes
(the next chunk's triage, the crisis scans) end with it, and what it stored is whole chunks of
posts, each labelled and in a case."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.conftest import Desk
from ventanilla.db import session_factory, session_scope
from ventanilla.ingest.models import Post

TEXTS = ["Mi vuelo lleva 3 horas de retraso", "Thanks for the quick help!", "Lost my bag again - awful",
         "Cancelled flight and no refund", "Where is my refund??", "Great crew on the flight to Madrid"]
CHUNK = 2000  # import_file's default


def _stored(engine) -> int:
    # Read-only: a writing session would take SQLite's write lock from the import every poll.
    with session_factory(engine, readonly=True)() as s:
        return int(s.scalar(select(func.count()).select_from(Post)) or 0)


def _group_gone(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return True
    return False


def test_ctrl_c_stops_the_import_and_its_helpers_and_keeps_whole_chunks(tmp_path: Path, engine, desk: Desk) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,created_at,lang,text,author\n")
        for i in range(60_000):
            handle.write(f"{i},2026-11-20T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z,en,"
                         f"{TEXTS[i % len(TEXTS)]} #{i},user{i % 4000}\n")
    command = [sys.executable, "-m", "ventanilla.cli", "ingest", str(path), "--workspace", desk.slug,
               "--channel", "x-brisa", "--json"]
    process = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)  # its own process group, as a terminal gives it
    try:
        deadline = time.monotonic() + 120
        while _stored(engine) < CHUNK:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no chunk committed in time"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    assert process.returncode != 0, err
    deadline = time.monotonic() + 10
    while not _group_gone(process.pid):
        assert time.monotonic() < deadline, "a helper process outlived the import"
        time.sleep(0.05)

    stored = _stored(engine)
    assert 0 < stored < 60_000
    assert stored % CHUNK == 0  # whole chunks only
    with session_scope(engine) as s:
        unlabelled = s.scalar(select(func.count()).select_from(Post)
                              .where((Post.labels.is_(None)) | (Post.case_id.is_(None))))
    assert unlabelled == 0
