"""`ventanilla audit verify` over 1,000,000 chained events, on SQLite and PostgreSQL.

The events are appended through the real writer (`audit.service.record_many`) in batches, then
the whole chain is verified. Goal: verify 1,000,000 events in < 20 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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
        start = time.perf_counter()
        with session_scope() as s:
            result = verify(s)
        seconds = time.perf_counter() - start
        assert result.ok, result
        print(f"{engine:<11} wrote {events:,} events in {written:5.1f} s; verified {result.checked:,} in "
              f"{seconds:5.2f} s = {result.checked / seconds:,.0f} events/s")


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
