"""The periodic jobs run on their intervals and one failing job does not stop the others."""

from __future__ import annotations

from tests.conftest import Desk
from ventanilla.workers import clock


def test_due_jobs_run_once_per_interval_and_survive_failures(desk: Desk, monkeypatch) -> None:
    last: dict[str, float] = {}
    first = clock.run_due(last, now=1000.0)
    assert first == [job.task for job in clock.JOBS]  # every job is registered and runs on a real database
    assert clock.run_due(last, now=1005.0) == []
    assert clock.run_due(last, now=1030.0) == ["search.index"]
    assert clock.run_due(last, now=1061.0) == ["search.index", "sla.recompute", "replies.send", "channels.sync"]

    from ventanilla.workers.queue import TASKS

    def broken(session, payload) -> None:
        raise RuntimeError("the network is down")

    monkeypatch.setitem(TASKS, "test.broken", broken)
    monkeypatch.setattr(clock, "JOBS", (clock.Job("test.broken", 1), clock.Job("sla.recompute", 1)))
    assert clock.run_due({}, now=5000.0) == ["sla.recompute"]  # the failure is logged, the next job runs
