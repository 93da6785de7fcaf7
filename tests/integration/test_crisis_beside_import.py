"""File imports scan for crises in a second process (`crisis.live.scans_behind`), on both engines:
the alert a burst in the file causes is there when the import returns and is the one scanning
after each commit gives, this process's detectors are rebuilt afterwards instead of feeding the
same posts twice, and a scan process that dies loses nothing (the importing process scans
instead)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Desk, incoming
from tests.integration.test_crisis_room import BURST_START, BURST_TEXTS, HISTORY_HOURS, HISTORY_TEXTS, T0, _iso
from ventanilla.db import session_scope

needs_two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="scans beside an import need two cores")


@pytest.fixture(autouse=True)
def fresh_detectors() -> Iterator[None]:
    from ventanilla.crisis.live import forget_state

    forget_state()
    yield
    forget_state()


def _burst_file(folder: Path, *, shuffled: bool = False) -> Path:
    """30 hours of one complaint an hour, then a burst of 13 in 13 minutes, as native JSONL.
    ``shuffled``: the last 10 hours of history come first, so the import's second chunk brings
    posts hours older than the first chunk's (too late for the sliding hour when scanned after
    each commit)."""
    posts = [incoming(f"h{h}", HISTORY_TEXTS[h % len(HISTORY_TEXTS)], handle=f"usual{h}",
                      created_at=_iso(T0 + timedelta(hours=h, minutes=10))) for h in range(HISTORY_HOURS)]
    if shuffled:
        posts = posts[20:] + posts[:20]
    posts += [incoming(f"b{i}", BURST_TEXTS[i % len(BURST_TEXTS)], handle=f"angry{i}", followers=100 + 1000 * i,
                       created_at=_iso(BURST_START + timedelta(minutes=i))) for i in range(13)]
    path = folder / "burst.jsonl"
    path.write_text("\n".join(json.dumps(p.model_dump(mode="json")) for p in posts) + "\n", encoding="utf-8")
    return path


def _import(engine: Any, desk: Desk, path: Path, workspace_id: int | None = None) -> int:
    from ventanilla.ingest.importer import import_file

    # Small chunks: several commits, so several scans asked of the second process.
    summary = import_file(path, workspace_id=workspace_id or desk.workspace_id, channel_slug="import", chunk=8,
                          engine=engine)
    return summary.new


def _alerts(engine: Any) -> list[Any]:
    from ventanilla.crisis.models import CrisisAlert

    with session_scope(engine) as s:
        return list(s.scalars(select(CrisisAlert).order_by(CrisisAlert.id)))


def _states_of(workspace_id: int) -> list[Any]:
    from ventanilla.crisis import live

    return [state for key, state in live._STATES.items() if key[1] == workspace_id]


@needs_two_cores
def test_an_import_with_a_burst_raises_its_alert_from_the_scan_process(engine: Any, desk: Desk, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ventanilla.crisis import live
    from ventanilla.ingest.models import Post

    parent = os.getpid()
    scanned_in: list[int] = []
    scan_now = live._scan_now

    def recording(workspace_id: int, **options: Any) -> None:
        if os.getpid() == parent:  # only scans in this process can be seen from here
            with session_scope(engine) as s:
                scanned_in.append(s.scalar(select(func.count()).select_from(Post)
                                           .where(Post.workspace_id == workspace_id)))
        scan_now(workspace_id, **options)

    monkeypatch.setattr(live, "_scan_now", recording)
    assert _import(engine, desk, _burst_file(tmp_path)) == HISTORY_HOURS + 13

    alerts = _alerts(engine)
    assert len(alerts) == 1
    assert alerts[0].closed_at is None
    assert "barajas" in (alerts[0].topic or "").lower()
    assert scanned_in == [0]  # here only the scan before the import; the others in the second process
    # The second process's detectors came back: they have seen every post of the import.
    [state] = _states_of(desk.workspace_id)
    with session_scope(engine) as s:
        assert state.watermark == s.scalar(select(func.max(Post.id)).where(Post.workspace_id == desk.workspace_id))

    # The next scan here goes on from them: nothing fed again, nothing raised twice.
    with session_scope(engine) as s:
        live.scan(s, desk.workspace_id)
    assert [(a.id, a.level) for a in _alerts(engine)] == [(alerts[0].id, alerts[0].level)]
    assert _states_of(desk.workspace_id) == [state]


def _alert_facts(alert: Any) -> tuple[Any, ...]:
    return (alert.level, alert.topic, alert.why, alert.examples, alert.peak_negative_hour, alert.peak_z,
            alert.opened_at, alert.updated_at, alert.closed_at, [entry["level"] for entry in alert.levels])


@needs_two_cores
@pytest.mark.parametrize("shuffled", [False, True], ids=["in-time-order", "out-of-order"])
def test_the_alert_is_the_one_scanning_after_each_commit_gives(engine: Any, desk: Desk, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               shuffled: bool) -> None:
    from ventanilla.accounts.models import Workspace
    from ventanilla.accounts.service import create_workspace
    from ventanilla.crisis import live

    path = _burst_file(tmp_path, shuffled=shuffled)
    with session_scope(engine) as s:
        name = s.get(Workspace, desk.workspace_id).name  # the brand: same words excluded from topics
        twin = create_workspace(s, slug="twin", name=name).id
    _import(engine, desk, path)
    with monkeypatch.context() as m:
        m.setattr(live.os, "cpu_count", lambda: 1)  # one core: each commit scans in this process
        _import(engine, desk, path, workspace_id=twin)

    beside, after_each = ([a for a in _alerts(engine) if a.workspace_id == ws] for ws in (desk.workspace_id, twin))
    assert len(beside) == len(after_each) == 1
    assert _alert_facts(beside[0]) == _alert_facts(after_each[0])  # peak figures synced at the end too
    # Each commit's scan fed the posts of that commit: the same ones came too late either way.
    [state_beside], [state_after_each] = _states_of(desk.workspace_id), _states_of(twin)
    assert state_beside.late_posts == state_after_each.late_posts
    assert (state_beside.late_posts > 0) == shuffled


@needs_two_cores
@pytest.mark.parametrize("dies_at", [0, 2], ids=["at-once", "before-the-burst"])
def test_a_scan_process_that_dies_loses_no_alert(engine: Any, desk: Desk, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture, dies_at: int) -> None:
    from ventanilla.crisis import live

    # The burst is in the middle of the file, three calm hours follow it (its episode is over by
    # the end): scans after each commit record it as an alert that opened and closed.
    path = _burst_file(tmp_path)
    calm = [incoming(f"c{i}", "Gracias, todo perfecto en el vuelo de hoy", handle=f"calm{i}",
                     created_at=_iso(BURST_START + timedelta(minutes=30 + 20 * i))) for i in range(10)]
    with path.open("a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(p.model_dump(mode="json")) + "\n" for p in calm))

    parent = os.getpid()
    scans = [0]
    scan_now = live._scan_now

    def dying(workspace_id: int, **options: Any) -> None:
        if os.getpid() != parent:
            scans[0] += 1  # this process's own count (the child's copy)
            if scans[0] > dies_at:
                os._exit(3)
        scan_now(workspace_id, **options)

    monkeypatch.setattr(live, "_scan_now", dying)
    assert _import(engine, desk, path) == HISTORY_HOURS + 13 + 10
    assert "stopped (exit code 3); scanning here" in caplog.text
    [alert] = _alerts(engine)
    assert "barajas" in (alert.topic or "").lower()
    assert alert.closed_at is not None and alert.level == "crisis"


def test_with_celery_the_import_leaves_scans_to_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from ventanilla.config import get_settings
    from ventanilla.crisis import live

    monkeypatch.setenv("VENTANILLA_BROKER_URL", "redis://127.0.0.1:6379/15")
    get_settings.cache_clear()
    try:
        with live.scans_behind():
            assert live._BEHIND.get() is None
    finally:
        get_settings.cache_clear()
