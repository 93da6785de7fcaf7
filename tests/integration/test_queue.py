"""Background work runs in-process by default and on Celery workers (Redis or RabbitMQ)."""

from __future__ import annotations

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
def test_with_a_broker_a_celery_worker_processes_the_posts(engine, desk: Desk, monkeypatch, broker: str) -> None:
    from celery.contrib.testing.worker import start_worker

    if broker.startswith("redis"):
        need_service("Redis", "127.0.0.1", 6379)
    else:
        need_service("RabbitMQ", "127.0.0.1", 5672)
    monkeypatch.setenv("VENTANILLA_BROKER_URL", broker)
    # Each test gets its own queue: parallel test processes must not take each other's tasks.
    monkeypatch.setenv("VENTANILLA_QUEUE_NAME", f"ventanilla-test-{uuid.uuid4().hex[:8]}")
    from ventanilla.config import get_settings

    get_settings.cache_clear()
    reset_queue()
    queue = get_queue()
    assert isinstance(queue, CeleryQueue)
    queue.app.conf.result_backend = None
    with start_worker(queue.app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        deliver(engine, desk.channel_id, [incoming("q2", "Vuelo retrasado", handle="a"),
                                          incoming("q3", "Maleta rota", handle="b")])
        deadline = time.monotonic() + 30
        while cases(engine) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert cases(engine) == 2
    reset_queue()
