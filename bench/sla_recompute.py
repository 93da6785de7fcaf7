"""How long `recompute_open_cases` takes on 100,000 open cases, on SQLite and PostgreSQL.

Run: `python bench/sla_recompute.py [--cases N] [--engine sqlite|postgresql|both] [--empty]`.
Loads the cases and their clocks with bulk inserts into a throw-away database, each clock as
`start_clocks` leaves it when its case opens (first-response and resolution due times and
states computed at the import, no next check yet) or, with `--empty`, with nothing computed
(a worst case no product path creates: every column of every clock is written), then times
passes of the real service function (database read, numpy, writes, alerts, commit), each as
wall time and as CPU time of this process (on SQLite the database works inside it) and, on a
local PostgreSQL, of the server process that ran the statements (read from /proc):

- first pass, every clock: the first pass after the 100,000 cases opened: every clock is read
  (none has a next check yet), its states and due times brought up to now, its next check
  written, and the first alerts raised;
- again, every clock: `full=True` at the same instant: all 100,000 read and computed, nothing
  to write (the steady cost of reading and computing them all);
- due checks: the every-minute job (`full=False`): only clocks whose next check has come
  (a threshold or a due time reached, or an event since) are read; at +1 min and +1 h;
- +1 h, every clock: a full pass an hour later, when many clocks have changed state;
- a new calendar: `set_calendar` (a lead edits the opening hours), which moves every running
  due time at once: every clock rewritten again;
- a week later, all late: the every-minute job after a week with nobody answering, when every
  clock breaches at once (one alert per target and kind, each told to its people and audited).

Prints figures; asserts nothing about speed (benchmarks are not timed tests). Goal: < 2 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _databases import fresh_database, pg_available

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday 16:00 in Madrid
_BATCH = 10_000


def load(url: str, count: int, seed: int, *, opened_state: bool = True) -> float:
    """Insert a workspace, a channel, an author, `count` open cases and their SLA clocks: as the
    cases' opening left them (`opened_state`), or with nothing computed (a worst case)."""
    import ventanilla.all_models  # noqa: F401
    from ventanilla.accounts.models import Workspace
    from ventanilla.cases.models import Case
    from ventanilla.db import get_engine, session_scope
    from ventanilla.ingest.models import Author, Channel
    from ventanilla.sla.calendar import BusinessCalendar
    from ventanilla.sla.models import SlaPolicy, case_sla_clock_table, case_sla_table
    from ventanilla.sla.recompute import recompute_many
    from ventanilla.sla.status import SlaState

    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    engine = get_engine(url)
    with session_scope(engine) as s:
        workspace = Workspace(slug="bench", name="Bench", timezone="Europe/Madrid",
                              settings={"calendar": BusinessCalendar.office_hours("Europe/Madrid").to_dict()})
        s.add(workspace)
        s.flush()
        channel = Channel(workspace_id=workspace.id, slug="x", name="X", network="x")
        author = Author(workspace_id=workspace.id, network="x", handle="someone")
        s.add_all([channel, author])
        s.flush()
        policy = SlaPolicy(workspace_id=workspace.id, name="Standard", first_response_minutes=24 * 60,
                           next_response_minutes=8 * 60, resolution_minutes=5 * 9 * 60)
        s.add(policy)
        s.flush()
        ids = (workspace.id, channel.id, author.id, policy.id)
    workspace_id, channel_id, author_id, policy_id = ids
    # Most cases opened today (Wednesday from 09:00 Madrid); 2 % on Monday, soon at risk or late.
    today = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()
    starts = np.where(rng.random(count) < 0.02, monday + rng.uniform(0, 9 * 3600, count),
                      today + rng.uniform(0, 7 * 3600, count))
    waiting = rng.random(count) < 0.1
    with engine.begin() as conn:
        for first in range(0, count, _BATCH):
            chunk = range(first, min(first + _BATCH, count))
            opened = [datetime.fromtimestamp(float(starts[i]), UTC) for i in chunk]
            conn.execute(insert(Case), [
                {"workspace_id": workspace_id, "author_id": author_id, "channel_id": channel_id,
                 "status": "waiting" if waiting[i] else "open", "priority": 3, "subject": f"case {i}",
                 "opened_at": at, "last_activity_at": at, "post_count": 1, "version": 1}
                for i, at in zip(chunk, opened, strict=True)])
        case_ids = list(conn.scalars(select(Case.id).order_by(Case.id)))
        for first in range(0, count, _BATCH):
            conn.execute(insert(case_sla_table), [
                {"case_id": case_ids[i], "workspace_id": workspace_id, "policy_id": policy_id,
                 "started_at": datetime.fromtimestamp(float(starts[i]), UTC),
                 "paused_since": NOW - timedelta(minutes=30) if waiting[i] else None,
                 "first_response_seconds": 24 * 3600.0, "resolution_seconds": 45 * 3600.0,
                 "first_response_paused": 0.0, "next_response_paused": 0.0, "resolution_paused": 0.0,
                 "updated_at": NOW}
                for i in range(first, min(first + _BATCH, count))])
        sla_ids = list(conn.scalars(select(case_sla_table.c.id).order_by(case_sla_table.c.case_id)))
        if not opened_state:
            # Each clock's computed columns empty: the first pass computes and writes them all.
            conn.execute(insert(case_sla_clock_table).from_select(["case_sla_id"], select(case_sla_table.c.id)))
            return time.perf_counter() - began
        # As `start_clocks` leaves a clock when its case opens: the first response and resolution
        # due times and states computed at the import (one instant for the batch, as there),
        # the next check not yet (NULL: the next pass reads the clock).
        calendar = BusinessCalendar.office_hours("Europe/Madrid")
        at = datetime.fromtimestamp(float(starts.max()), UTC)
        computed: dict[str, Any] = {}
        for target, seconds in (("first_response", 24 * 3600.0), ("resolution", 45 * 3600.0)):
            due, _elapsed, codes = recompute_many(calendar, starts, np.full(count, seconds), np.zeros(count), at)
            computed[f"{target}_due"] = [datetime.fromtimestamp(float(d), UTC) for d in due]
            computed[f"{target}_state"] = [SlaState.from_code(int(c)).value for c in codes]
        for first in range(0, count, _BATCH):
            conn.execute(insert(case_sla_clock_table), [
                {"case_sla_id": sla_ids[i], **{k: v[i] for k, v in computed.items()}, "computed_at": at}
                for i in range(first, min(first + _BATCH, count))])
    return time.perf_counter() - began


def _backend_cpu(pid: int | None) -> float | None:
    """CPU seconds used so far by a local PostgreSQL backend (None when it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def timed(engine: Any, label: str) -> Iterator[Any]:
    """A session committed at the end; prints wall time, this process's CPU time and, on a local
    PostgreSQL, the CPU time of the server process that ran the statements."""
    from ventanilla.db import session_scope

    began, cpu = time.perf_counter(), time.process_time()
    pid = server_before = None
    with session_scope(engine) as s:
        if engine.dialect.name == "postgresql":
            pid = s.execute(text("SELECT pg_backend_pid()")).scalar()
            server_before = _backend_cpu(pid)
        yield s
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    server_after = _backend_cpu(pid)
    server = ""
    if server_before is not None and server_after is not None:
        server = f" + {server_after - server_before:4.2f} s server CPU"
    print(f"  {label:>23}: {seconds:5.2f} s wall, {cpu:4.2f} s CPU{server}  ", end="")


def run(engine_name: str, count: int, seed: int, *, empty: bool = False) -> None:
    from ventanilla.accounts.models import Workspace
    from ventanilla.audit.service import SYSTEM
    from ventanilla.db import get_engine, session_scope
    from ventanilla.sla.calendar import BusinessCalendar
    from ventanilla.sla.models import SlaAlert
    from ventanilla.sla.service import recompute_open_cases, set_calendar

    with fresh_database(engine_name) as url:
        loaded = load(url, count, seed, opened_state=not empty)
        state = "nothing computed" if empty else "as their opening left them"
        print(f"{engine_name}: {count:,} open cases loaded in {loaded:.1f} s (bulk insert), clocks {state}")
        engine = get_engine(url)
        passes = (("first pass, every clock", NOW, False), ("again, every clock", NOW, True),
                  ("again, due checks", NOW, False), ("+1 min, due checks", NOW + timedelta(minutes=1), False),
                  ("+1 h, due checks", NOW + timedelta(hours=1), False),
                  ("+1 h, every clock", NOW + timedelta(hours=1, minutes=1), True))
        for label, now, full in passes:
            with timed(engine, label) as s:
                result = recompute_open_cases(s, now, full=full)
            print(f"({result.cases:,} clocks read, {result.changed:,} targets changed, "
                  f"{len(result.alerts):,} new alerts; commit included)")
        with timed(engine, "a new calendar") as s:
            workspace_id = s.scalar(select(Workspace.id))
            assert workspace_id is not None
            # A lead moves Friday's closing time: every running due time moves with it.
            hours = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu")} | {"fri": [["08:00", "15:00"]]}
            set_calendar(s, workspace_id=workspace_id, actor=SYSTEM, now=NOW + timedelta(hours=1, minutes=2),
                         calendar=BusinessCalendar.from_dict({"timezone": "Europe/Madrid", "hours": hours}))
        print("(set_calendar: every running clock recomputed and written; commit included)")
        with timed(engine, "a week later, all late") as s:
            result = recompute_open_cases(s, NOW + timedelta(days=7), full=False)
        print(f"({result.cases:,} clocks read, {len(result.alerts):,} new alerts, each with its recipients "
              "and audit event; commit included)")
        with session_scope(engine) as s:
            total = s.scalar(select(func.count()).select_from(SlaAlert))
        print(f"  alerts in the table: {total:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--empty", action="store_true",
                        help="load the clocks with nothing computed (a worst case: no product path leaves a "
                             "clock so), so that the first pass writes every column of every clock")
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    for name in engines:
        if name == "postgresql" and not pg_available():
            print("postgresql: not reachable, skipped")
            continue
        run(name, args.cases, args.seed, empty=args.empty)


if __name__ == "__main__":
    main()
