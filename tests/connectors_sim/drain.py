"""Reading a connector to the end of its round, as the channel scheduler does."""

from __future__ import annotations

from collections.abc import Callable

from ventanilla.ingest.connectors.base import Connector


def drain_ids(make: Callable[[], Connector], cursor: str | None, *, limit: int = 50) -> tuple[list[str], str | None]:
    """Fetch until ``more`` is false with a new connector for every page (a restart between
    pages); returns the external ids seen, in order, and the final cursor."""
    seen: list[str] = []
    for _ in range(limit):
        page = make().fetch(cursor)
        seen += [p.external_id for p in page.posts]
        cursor = page.cursor
        if not page.more:
            break
    return seen, cursor
