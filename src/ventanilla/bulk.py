"""Writing many rows at once, fast, inside the caller's transaction.

SQLAlchemy's ``executemany`` builds a parameter dictionary per row and runs every bind processor
through its compiler: at tens of thousands of rows per second that bookkeeping costs more than the
database. Here the same bind processors (the column types' own, so values are stored exactly as
the ORM would store them) run over plain tuples, and the rows go to the driver directly:
``COPY ... FROM STDIN`` on PostgreSQL, one prepared ``executemany`` on SQLite.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, Table, any_, bindparam, func, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None
# Column types no query filters on: left out of `refresh_statistics`' ANALYZE. (Texts stay in:
# the inbox search's plan depends on their statistics, ~25% slower without them.)
_UNPLANNED = (JSON,)


def _processors(table: Table, columns: Sequence[str], dialect: Any) -> list[Processor]:
    # The processors the compiler itself would use for each column's type on this dialect.
    return [table.c[name].type._cached_bind_processor(dialect) for name in columns]


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]],
                *, ready: Collection[str] = ()) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` in the session's transaction.

    Columns named in ``ready`` already hold what the driver takes (e.g. a JSON document's text):
    their type's bind processor is not run on them.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    procs = _processors(table, columns, dialect)
    pairs = [(i, p) for i, p in enumerate(procs) if p is not None and columns[i] not in ready]
    if pairs:
        # Column by column: one comprehension per converted column instead of a Python loop
        # per cell, and a value shared by every row (``received_at``) converted once.
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for i, proc in pairs:
            col = cols[i]
            first = col[0]
            if first is not None and all(v is first for v in col):
                cols[i] = [proc(first)] * len(col)
            else:
                cols[i] = [None if v is None else proc(v) for v in col]
        rows = list(zip(*cols, strict=True))
    names = ", ".join(f'"{c}"' for c in columns)
    raw: Any = connection.connection.dbapi_connection
    assert raw is not None
    if dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)
    finally:
        cursor.close()


def one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` for a batch: one array parameter on PostgreSQL (``= ANY(:values)``),
    whose query text stays short enough for psycopg to cache; a plain ``IN`` list on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def lookup(session: Session, columns: Sequence[Any], key: Any, values: Sequence[Any],
           *where: Any) -> Sequence[Any]:
    """Rows (``columns``) whose ``key`` is one of ``values``, under the extra ``where`` conditions.

    For lookups by a unique key during bulk ingest. On PostgreSQL each value probes the index on
    its own (``unnest`` + ``LATERAL ... LIMIT 1``): with ``= ANY(...)`` or ``IN`` the planner
    reads every row of the workspace for each batch, so each batch costs more than the last.
    (`refresh_statistics` keeps the planner informed while a table grows fast.)
    """
    if session.get_bind().dialect.name == "postgresql":
        keys = func.unnest(bindparam(None, list(values), type_=ARRAY(key.type))).table_valued("key").render_derived()
        found = select(*columns).where(*where, key == keys.c.key).limit(1).lateral()
        return session.execute(select(found).select_from(keys).join(found, true())).all()
    return session.execute(select(*columns).where(*where, key.in_(values))).all()


def refresh_statistics(session: Session, table: Table, added: int) -> None:
    """After a bulk insert on PostgreSQL, ANALYZE ``table`` when the rows just added are a large
    share of what the planner believes it holds.

    Autovacuum analyses a table only after a while; during an import into a new or small table
    the planner would otherwise plan for an empty one (and pick the wrong index). Running ANALYZE
    after bulk loading is PostgreSQL's own advice; the share test keeps it to a few runs per
    import (the table must have grown by half since the planner last looked).
    """
    if added <= 0 or session.get_bind().dialect.name != "postgresql":
        return
    believed = session.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                               {"t": table.name}).scalar()
    if believed is None or believed < 0 or added > 0.5 * float(believed):
        # The row count and the columns' statistics are what queries are planned with; sampling
        # the JSON documents (labels, raw payloads) would cost most of the time and no query
        # filters on them (autovacuum's own ANALYZE covers every column later).
        keys = ", ".join(f'"{c.name}"' for c in table.columns if not isinstance(c.type, _UNPLANNED))
        session.execute(text(f'ANALYZE "{table.name}" ({keys})'))


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new primary keys for ``table``, ours until the transaction ends.

    PostgreSQL takes them from the column's sequence in one round trip. On SQLite every writing
    session holds the write lock from its first statement (BEGIN IMMEDIATE), so the keys after the
    current largest one cannot be taken by anybody else before we commit.
    """
    if count <= 0:
        return []
    if session.connection().dialect.name == "postgresql":
        # One round trip; the sequence is looked up once, as a regclass (no name lookup per key).
        values = session.execute(text(
            "WITH s AS MATERIALIZED (SELECT CAST(pg_get_serial_sequence(:t, 'id') AS regclass) AS seq) "
            "SELECT nextval(s.seq) FROM s, generate_series(1, :n)"), {"t": table.name, "n": count}).scalars().all()
        return sorted(int(v) for v in values)
    start = int(session.execute(select(func.max(table.c.id))).scalar() or 0)
    return list(range(start + 1, start + count + 1))


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Let the garbage collector run rarely during a bulk job.

    A batch allocates many short-lived objects, so the collector's default thresholds make it
    walk every long-lived object (models, mappers) again and again: about a fifth of the CPU time
    of an import. Those objects are set aside (`gc.freeze`) and the young generation may grow
    larger before a collection; everything goes back to normal afterwards.
    """
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
