"""Engine, sessions and the declarative base. SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always gives them back aware (SQLite forgets tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite keeps datetimes as text; this writes SQLAlchemy's own format
        # ("2026-11-20 17:05:00.000000", UTC) in one C call instead of a Python formatter.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given where UTC is required")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | datetime | None) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, str):
                return _sqlite_moment(value)
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        return process


@lru_cache(maxsize=16_384)
def _sqlite_moment(value: str) -> datetime:
    """A datetime stored by SQLite (text) read back as aware UTC. Cached: a batch read back
    shares many values (``received_at`` of one import, cases' times), and datetimes are
    immutable."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# For optional documents: Python None is stored as SQL NULL (so `IS NULL` finds it), not JSON null.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Now, in UTC, aware."""
    return datetime.now(UTC)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: pysqlite's implicit transactions start too late and
        # make concurrent writers fail with "database is locked" instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of failing on a
        # stale snapshot; read-only sessions (page views) use a plain BEGIN and never wait.
        if conn.get_execution_options().get("readonly"):
            conn.exec_driver_sql("BEGIN")
        elif _POLL_WRITE_LOCK:
            _begin_polling(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


# See `poll_write_lock`.
_POLL_WRITE_LOCK = False


def poll_write_lock() -> None:
    """From now on this process's SQLite writers ask for the write lock every 2 ms.

    SQLite's own busy handler sleeps longer and longer (up to 100 ms) between tries, so a
    writer beside a bulk import misses the short gaps between the import's transactions and
    waits for several of them. For a process that writes now and then beside one that writes
    all the time (the crisis scans beside an import).
    """
    global _POLL_WRITE_LOCK
    _POLL_WRITE_LOCK = True


def _begin_polling(raw: Any, *, every: float = 0.002, patience: float = 30.0) -> None:
    import sqlite3

    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + patience
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc  # as SQLAlchemy's own
                time.sleep(every)
    finally:
        raw.execute("PRAGMA busy_timeout=30000")


def json_dumps(value: Any) -> str:
    """JSON columns are written with orjson: several times faster than ``json`` on ingest."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url``; SQLite files get WAL mode and their folder created."""
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        _prepare_sqlite(engine)
        return engine
    # psycopg prepares a statement after its fifth run, and PostgreSQL may then keep a generic
    # plan made without the values: during a bulk import into a table without statistics yet,
    # that plan scans every row for each batch. Plans are made with the real values instead.
    kwargs.setdefault("connect_args", {"options": "-c plan_cache_mode=force_custom_plan"})
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The cached engine for ``url`` (default: the configured database)."""
    from ventanilla.config import get_settings

    url = url or get_settings().database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def session_factory(engine: Engine | None = None, *, readonly: bool = False) -> sessionmaker[Session]:
    """A session maker bound to ``engine`` (default: the configured one).

    ``readonly`` sessions may still write, but on SQLite they do not queue for the write lock
    up front; use them for requests that only read.
    """
    bind = engine or get_engine()
    if readonly:
        bind = bind.execution_options(readonly=True)
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dispose_engines() -> None:
    """Close every cached engine (tests and forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
