"""`ventanilla audit verify` over 1,000,000 chained events, on SQLite and PostgreSQL.

The events are appended through the real writer (`audit.service.record_many`) in batches, then
the whole chain is verified. Goal: verify 1,000,000 events in < 20 s. Wall and CPU time are
both printed: on a shared machine the wall time alone says little.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
from _databases import fresh_database, pg_available


def run(engine: str, events: int) -> None:
    with fresh_database(engine):
        from ventanilla.audit.service import Actor, EventDraft, record_many, verify
        from ventanilla.db import session_scope

        actor = Actor("bench@example.com", None)
        start = time.perf_counter()
        batch = 20_000
        for begin in range(0, events, batch):
            drafts = [EventDraft("case.status_changed", "case", str(i % 50_000), None,
                                 before={"status": "open"}, after={"status": "waiting"})
                      for i in range(begin, min(events, begin + batch))]
            with session_scope() as s:
                record_many(s, actor, drafts)
        written = time.perf_counter() - start
        with session_scope() as s:
            server = server_cpu(s)
            start, cpu, server_start = time.perf_counter(), time.process_time(), server()
            result = verify(s)
            seconds, cpu, server_seconds = time.perf_counter() - start, time.process_time() - cpu, server()
        assert result.ok and result.checked == events and result.rechecked == 0, result
        # CPU is this process's; PostgreSQL's own backend works for it too (when it runs here).
        backend = f" + {server_seconds - server_start:5.2f} s server CPU" if server_seconds else ""
        print(f"{engine:<11} wrote {events:,} events in {written:5.1f} s; verified {result.checked:,} in "
              f"{seconds:5.2f} s wall, {cpu:5.2f} s CPU{backend} = {result.checked / seconds:,.0f} events/s")


def server_cpu(session: Session) -> Callable[[], float]:
    """CPU seconds used so far by the PostgreSQL backend serving ``session`` (0 when unknown)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    stat = Path(f"/proc/{session.execute(text('SELECT pg_backend_pid()')).scalar_one()}/stat")

    def used() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    for engine in args.engines.split(","):
        if engine == "postgresql" and not pg_available():
            print("postgresql  skipped: not reachable")
            continue
        run(engine, args.events)


if __name__ == "__main__":
    main()
