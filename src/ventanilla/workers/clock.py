"""The periodic jobs: what must happen on the clock, not on an event.

`ventanilla clock` runs them forever (one process per installation, beside the workers);
`ventanilla serve` runs the same loop in a background thread when no broker is configured, so
the one-command install needs nothing else. Each job is a registered task sent through the
configured queue, so with Celery the work itself runs on the workers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from ventanilla.workers.queue import get_queue

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    task: str
    every_seconds: float


JOBS: tuple[Job, ...] = (
    Job("search.index", 10),        # new posts into the SQLite search index
    Job("sla.recompute", 60),       # at-risk and breach alerts
    Job("replies.send", 60),        # outbox retries and interrupted sends
    Job("channels.sync", 60),       # channels whose poll time has come
    Job("crisis.tick", 300),        # close alerts on brands that went quiet
    Job("followups.run", 300),      # satisfaction checks that are due
)


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Send every job whose interval has passed; returns the tasks sent. One failing job
    never stops the others."""
    sent = []
    for job in JOBS:
        if now - last_run.get(job.task, 0.0) < job.every_seconds:
            continue
        last_run[job.task] = now
        try:
            get_queue().enqueue(job.task, {})
            sent.append(job.task)
        except Exception:  # a job's failure is logged; the clock keeps ticking
            log.exception("periodic job %s failed", job.task)
    return sent


def run_forever(stop: threading.Event | None = None, *, tick_seconds: float = 5.0, listen: bool = True) -> None:
    """Tick until ``stop`` is set.

    With ``listen``, channels that push (Mastodon streaming, IMAP IDLE; ``ingest/listen.py``)
    are listened to in this process as well: a push syncs its channel at once, and the
    ``channels.sync`` job keeps polling as the safety net. A listener problem is logged only.
    """
    stop = stop or threading.Event()
    last_run: dict[str, float] = {}
    listeners = _listeners() if listen else None
    try:
        while not stop.is_set():
            run_due(last_run, time.monotonic())
            if listeners is not None:
                listeners.maybe_refresh()
            stop.wait(tick_seconds)
    finally:
        if listeners is not None:
            listeners.close()


def _listeners() -> Any:
    try:
        from ventanilla.db import get_engine
        from ventanilla.ingest.listen import Listeners

        return Listeners(get_engine())
    except Exception:
        log.exception("push listeners not started; channels are polled only")
        return None


def start_in_background() -> threading.Event:
    """Start the clock in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(stop,), name="ventanilla-clock", daemon=True).start()
    return stop
