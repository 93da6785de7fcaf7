"""Throw-away databases on both engines for the benchmarks (never the user's own)."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_ADMIN = os.environ.get("VENTANILLA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def reset_settings(url: str) -> None:
    """Point ventanilla at ``url`` for the rest of the process."""
    os.environ["VENTANILLA_DATABASE_URL"] = url
    from ventanilla.config import get_settings
    from ventanilla.db import dispose_engines
    from ventanilla.workers.queue import reset_queue

    get_settings.cache_clear()
    dispose_engines()
    reset_queue()


@contextmanager
def fresh_database(engine: str) -> Iterator[str]:
    """A migrated, empty database URL on ``engine`` ("sqlite" or "postgresql"), removed after."""
    from ventanilla.migrate import upgrade

    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade(url)
            reset_settings(url)
            yield url
        return
    name = f"ventanilla_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        reset_settings(url)
        yield url
    finally:
        from ventanilla.db import dispose_engines

        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pg_available() -> bool:
    try:
        with create_engine(PG_ADMIN).connect():
            return True
    except Exception:
        return False
