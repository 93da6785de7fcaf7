"""Shared fixtures: a real database on both engines (SQLite file and PostgreSQL), a workspace
with users, and helpers to sign in. No mocks of our own code or of the database."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tests.connectors_sim.mastodon import MastodonSim
from tests.connectors_sim.mastodon_streaming import MastodonStreamingSim
from tests.connectors_sim.server import SimServer

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_ADMIN_URL = os.environ.get("VENTANILLA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("VENTANILLA_TEST_REDIS", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("VENTANILLA_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
SHARED_DATA = Path(os.environ.get("VENTANILLA_SHARED_DATA",
                                  Path(__file__).resolve().parents[1].parent / "shared" / "data"))
PASSWORD = "correct-horse-battery"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def need_service(name: str, host: str, port: int) -> None:
    """Skip (outside CI) or fail (in CI) when a service the test needs is down."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(f"{message} (start it, or run under CI=true to require it)")


def _reset_process_state() -> None:
    from ventanilla.config import get_settings
    from ventanilla.db import dispose_engines
    from ventanilla.workers.queue import reset_queue

    get_settings.cache_clear()
    dispose_engines()
    reset_queue()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from ventanilla.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    from ventanilla.db import dispose_engines

    dispose_engines()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    need_service("PostgreSQL", "127.0.0.1", 5432)
    from sqlalchemy import create_engine

    from ventanilla.migrate import upgrade

    name = f"ventanilla_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    from ventanilla.db import dispose_engines

    dispose_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    from sqlalchemy import inspect

    from ventanilla.db import get_engine

    existing = set(inspect(get_engine(url)).get_table_names())
    # Every table but Alembic's, including those outside the models (the search index and its queue).
    names = ", ".join(f'"{name}"' for name in sorted(existing - {"alembic_version"}))
    with get_engine(url).begin() as conn:
        # TRUNCATE does not fire the audit table's row triggers: tests start from nothing.
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           sqlite_template: Path) -> Iterator[str]:
    """A migrated, empty database on each engine; the app is configured to use it."""
    if request.param == "sqlite":
        path = tmp_path / "ventanilla.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
    monkeypatch.setenv("VENTANILLA_DATABASE_URL", url)
    monkeypatch.setenv("VENTANILLA_SECRET_KEY", "test-secret-key-for-ventanilla-0123456789")
    monkeypatch.delenv("VENTANILLA_BROKER_URL", raising=False)
    # Cheap hashes keep the suite fast; production keeps argon2's defaults.
    monkeypatch.setenv("VENTANILLA_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("VENTANILLA_ARGON2_MEMORY_KIB", "1024")
    _reset_process_state()
    if request.param == "postgresql":
        _truncate_pg(url)
    yield url
    _reset_process_state()


@pytest.fixture
def engine(db_url: str) -> Engine:
    from ventanilla.db import get_engine

    return get_engine(db_url)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    from ventanilla.db import session_factory

    s = session_factory(engine)()
    yield s
    s.rollback()
    s.close()


@dataclass
class Desk:
    """A workspace with one user per role (all with PASSWORD) and a public X channel."""

    workspace_id: int
    slug: str
    channel_id: int
    users: dict[str, int]


@pytest.fixture
def desk(engine: Engine) -> Desk:
    from ventanilla.accounts.models import Role
    from ventanilla.accounts.service import create_user, create_workspace
    from ventanilla.db import session_scope
    from ventanilla.ingest.channels import create_channel

    with session_scope(engine) as s:
        ws = create_workspace(s, slug="brisa", name="Aerolínea Brisa")
        users = {}
        for role in Role:
            user = create_user(s, email=f"{role.value}@brisa.test", name=f"{role.value.title()} Person",
                               password=PASSWORD, workspace=ws, role=role)
            users[role.value] = user.id
        channel = create_channel(s, workspace_id=ws.id, slug="x-brisa", name="X @BrisaAir", network="x",
                                 account="@BrisaAir", secrets_={"webhook_secret": "whsec-test"})
        return Desk(ws.id, ws.slug, channel.id, users)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def incoming(external_id: str, text_: str, *, handle: str = "maria", network: str = "x",
             thread: str | None = None, kind: str = "mention", followers: int | None = 120,
             created_at: str = "2026-11-20T17:05:00Z", language: str | None = None):
    """A normalised post as a connector would hand it over."""
    from ventanilla.ingest.schema import IncomingPost

    return IncomingPost.model_validate({
        "network": network, "external_id": external_id, "text": text_, "kind": kind,
        "created_at": created_at, "thread_external_id": thread, "language": language,
        "author": {"handle": handle, "display_name": handle.title(), "followers": followers},
    })


def deliver(engine: Engine, channel_id: int, posts: list) -> list[int]:
    """Accept posts on a channel and run the pipeline on them, as ingest does."""
    from ventanilla.db import session_scope
    from ventanilla.ingest.models import Channel
    from ventanilla.ingest.service import accept
    from ventanilla.workers.pipeline import hand_over

    with session_scope(engine) as s:
        channel = s.get(Channel, channel_id)
        result = accept(s, channel=channel, posts=posts)
    hand_over(result.new_post_ids)
    return result.new_post_ids


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own, on each engine, for tests that migrate down and up; removed after."""
    from sqlalchemy import create_engine

    from ventanilla.db import dispose_engines

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        dispose_engines()
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"ventanilla_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def masto() -> Iterator[tuple[MastodonSim, MastodonStreamingSim]]:
    """A simulated Mastodon instance with its streaming API."""
    with SimServer() as server:
        sim = MastodonSim(server)
        with MastodonStreamingSim(sim) as streaming:
            yield sim, streaming
