"""The Celery application used when VENTANILLA_BROKER_URL is set (Redis or RabbitMQ)."""

from __future__ import annotations

from typing import Any

from celery import Celery


def make_celery(broker_url: str, queue_name: str | None = None) -> Celery:
    """A Celery app on ``broker_url`` with the one generic task that runs registered tasks."""
    from ventanilla.config import get_settings

    app = Celery("ventanilla", broker=broker_url)
    app.conf.update(
        task_default_queue=queue_name or get_settings().queue_name,
        task_acks_late=True,  # a worker killed mid-task leaves it for another to redo
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
    )

    @app.task(name="ventanilla.run", bind=True, max_retries=5, default_retry_delay=5)
    def run(self: Any, name: str, payload: dict[str, Any]) -> None:
        from ventanilla.workers.queue import run_task

        try:
            run_task(name, payload)
        except KeyError:
            raise
        except Exception as exc:  # retried with backoff; tasks are idempotent
            raise self.retry(exc=exc, countdown=min(300, 2 ** self.request.retries * 5)) from exc

    return app
