"""Alembic environment: runs against the engine ventanilla is configured with."""

from __future__ import annotations

from alembic import context

from ventanilla.all_models import Base
from ventanilla.db import get_engine

config = context.config
url = config.get_main_option("sqlalchemy.url") or None


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = get_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
