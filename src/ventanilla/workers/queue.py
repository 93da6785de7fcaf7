"""Background work: tasks run in-process by default, or on Celery workers when a broker is set.

A task is a function ``(session, payload) -> None`` registered by name; the payload is plain
JSON so the same call works through Celery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from ventanilla.config import get_settings
from ventanilla.db import session_scope

log = logging.getLogger(__name__)

Task = Callable[[Session, dict[str, Any]], None]
TASKS: dict[str, Task] = {}


def task(name: str) -> Callable[[Task], Task]:
    """Register a task under ``name``."""

    def register(fn: Task) -> Task:
        TASKS[name] = fn
        return fn

    return register


def run_task(name: str, payload: dict[str, Any]) -> None:
    """Run a registered task in its own transaction (what workers call)."""
    _load_tasks()
    fn = TASKS.get(name)
    if fn is None:
        raise KeyError(f"unknown task {name!r}")
    with session_scope() as session:
        fn(session, payload)


class Queue(Protocol):
    def enqueue(self, name: str, payload: dict[str, Any]) -> None: ...


class InlineQueue:
    """Runs each task at once in this process, after the caller's commit (the default)."""

    def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        run_task(name, payload)


class CeleryQueue:
    """Sends each task to Celery workers through the configured broker."""

    def __init__(self, broker_url: str):
        from ventanilla.workers.celery_app import make_celery

        self.app = make_celery(broker_url)

    def enqueue(self, name: str, payload: dict[str, Any]) -> None:
        self.app.send_task("ventanilla.run", args=[name, payload])


_queue: Queue | None = None


def get_queue() -> Queue:
    """The configured queue: Celery when VENTANILLA_BROKER_URL is set, in-process otherwise."""
    global _queue
    if _queue is None:
        broker = get_settings().broker_url
        _queue = CeleryQueue(broker) if broker else InlineQueue()
    return _queue


def reset_queue() -> None:
    """Forget the cached queue (tests switch modes)."""
    global _queue
    _queue = None


def _load_tasks() -> None:
    # Importing the modules registers their tasks.
    from ventanilla.cases import search  # noqa: F401
    from ventanilla.crisis import live as crisis_live  # noqa: F401
    from ventanilla.followups import tasks as followups_tasks  # noqa: F401
    from ventanilla.ingest import sync  # noqa: F401
    from ventanilla.replies import outbox  # noqa: F401
    from ventanilla.sla import tasks as sla_tasks  # noqa: F401
    from ventanilla.workers import pipeline  # noqa: F401
