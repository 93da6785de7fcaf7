"""Background work runs in-process by default and on Celery workers (Redis or RabbitMQ)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import AMQP_URL, REDIS_URL, Desk, deliver, incoming, need_service
from ventanilla.cases.models import Case
from ventanilla.db import session_scope
from ventanilla.workers.queue import CeleryQueue, InlineQueue, get_queue, reset_queue


def cases(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Case)) or 0


def test_without_a_broker_posts_are_processed_in_process(engine, desk: Desk) -> None:
    assert isinstance(get_queue(), InlineQueue)
    deliver(engine, desk.channel_id, [incoming("q1", "Hola")])
    assert cases(engine) == 1


@pytest.mark.parametrize("broker", [
    pytest.param(REDIS_URL, id="redis", marks=pytest.mark.redis),
    pytest.param(AMQP_URL, id="rabbitmq", marks=pytest.mark.rabbitmq),
])
def test_with_a_broker_a_celery_worker_processes_the_posts(engine, desk: Desk, monkeypatch, broker: str,
                                                           db_url: str) -> None:
    if broker.startswith("redis"):
        need_service("Redis", "127.0.0.1", 6379)
    else:
        need_service("RabbitMQ", "127.0.0.1", 5672)
    # Each test gets its own queue: parallel test processes must not take each other's tasks.
    queue_name = f"ventanilla-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("VENTANILLA_BROKER_URL", broker)
    monkeypatch.setenv("VENTANILLA_QUEUE_NAME", queue_name)
    from ventanilla.config import get_settings

    get_settings.cache_clear()
    reset_queue()
    assert isinstance(get_queue(), CeleryQueue)
    # The real `ventanilla worker`, in its own process, as an operator would run it.
    worker = subprocess.Popen([sys.executable, "-m", "ventanilla.cli", "worker"], env={**os.environ},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deliver(engine, desk.channel_id, [incoming("q2", "Vuelo retrasado", handle="a"),
                                          incoming("q3", "Maleta rota", handle="b")])
        assert cases(engine) == 0  # nothing ran in this process: the posts wait for the worker
        deadline = time.monotonic() + 60
        while cases(engine) < 2 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.3)
        assert cases(engine) == 2, worker.stderr.read().decode()[-2000:] if worker.poll() is not None else ""
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        reset_queue()
