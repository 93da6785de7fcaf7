"""`epoch(column)`: a UTC datetime column read as float epoch seconds by the database itself.

Bulk recomputation needs start times as numbers; converting 100,000 datetimes in Python
costs more than the whole numpy pass, so the database does it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class epoch(FunctionElement[float]):
    """Seconds since 1970-01-01 UTC of a `UTCDateTime` column (NULL stays NULL)."""

    type = Float()
    inherit_cache = True
    name = "epoch"

    def __init__(self, column: Any) -> None:
        super().__init__(column)


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: whole seconds from unixepoch() (SQLite 3.38+;
    # strftime('%s') before that), the fraction added from the text (characters 20 on, '' is 0).
    column = compiler.process(next(iter(element.clauses)), **kw)
    whole = f"unixepoch({column})" if sqlite3.sqlite_version_info >= (3, 38) else f"strftime('%s', {column})"
    return f"({whole} + substr({column}, 20))"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element: epoch, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(extract(epoch FROM {column}) AS DOUBLE PRECISION)"
