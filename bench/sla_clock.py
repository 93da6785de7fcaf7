"""How long the SLA clock takes: 100,000 open cases in bulk, and one case at a time.

Run: `python bench/sla_clock.py [--cases N] [--seed S]`. Prints figures; it
asserts nothing about speed (see DESIGN.md: benchmarks are not timed tests).
"""

from __future__ import annotations

import argparse
import statistics
import time as clock
from datetime import UTC, date, datetime, time

import numpy as np

from ventanilla.sla.calendar import BusinessCalendar
from ventanilla.sla.clock import due_at, elapsed_business_seconds
from ventanilla.sla.recompute import recompute_many
from ventanilla.sla.status import SlaState

HOUR = 3600.0
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
DESK = BusinessCalendar(
    "Europe/Madrid",
    (((time(9), time(14)), (time(16), time(19))),) * 5 + (((time(10), time(14)),), ()),
    frozenset({date(2026, 11, 2), date(2026, 12, 8), date(2026, 12, 25), date(2027, 1, 6)}),
)


def open_cases(count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Open cases started over the last 30 days (most of them recent), as DB columns."""
    age = 30 * 86_400 * rng.random(count) ** 3
    starts = NOW.timestamp() - age
    targets = rng.choice([HOUR, 4 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR], count)
    paused = np.where(rng.random(count) < 0.3, rng.uniform(0, 8 * HOUR, count), 0.0)
    waiting = rng.random(count) < 0.1
    paused_since = np.where(waiting, NOW.timestamp() - rng.uniform(0, 1, count) * age, np.nan)
    return {"starts": starts, "targets": targets, "paused": paused, "since": paused_since}


def bench_bulk(cases: dict[str, np.ndarray], repeats: int) -> tuple[list[float], np.ndarray]:
    timings = []
    codes = np.empty(0, dtype=np.int8)
    for _ in range(repeats):
        began = clock.perf_counter()
        _, _, codes = recompute_many(
            DESK,
            cases["starts"],
            cases["targets"],
            cases["paused"],
            NOW,
            paused_since=cases["since"],
        )
        timings.append(clock.perf_counter() - began)
    return timings, codes


def bench_scalar(cases: dict[str, np.ndarray], count: int) -> tuple[float, float]:
    """Mean seconds per case for `due_at` and for `elapsed_business_seconds`."""
    starts = [datetime.fromtimestamp(s, UTC) for s in cases["starts"][:count]]
    targets = cases["targets"][:count].tolist()
    pauses = [
        [] if np.isnan(since) else [(datetime.fromtimestamp(since, UTC), None)]
        for since in cases["since"][:count]
    ]
    began = clock.perf_counter()
    for start, target, stops in zip(starts, targets, pauses, strict=True):
        due_at(DESK, start, target, stops)
    due_cost = (clock.perf_counter() - began) / count
    began = clock.perf_counter()
    for start, stops in zip(starts, pauses, strict=True):
        elapsed_business_seconds(DESK, start, NOW, stops)
    elapsed_cost = (clock.perf_counter() - began) / count
    return due_cost, elapsed_cost


def main() -> None:
    """Print the bulk and per-case figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--scalar-cases", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    cases = open_cases(args.cases, np.random.default_rng(args.seed))
    timings, codes = bench_bulk(cases, args.repeats)
    states = {
        SlaState.from_code(code).value: int(n)
        for code, n in zip(*np.unique(codes, return_counts=True), strict=True)
    }
    print(f"calendar: {DESK.timezone}, split shifts, {len(DESK.holidays)} holidays")
    print(
        f"recompute_many, {args.cases:,} open cases: "
        f"best {min(timings) * 1e3:.1f} ms, median {statistics.median(timings) * 1e3:.1f} ms "
        f"({args.repeats} runs)"
    )
    print(f"  states: {states}")
    due_cost, elapsed_cost = bench_scalar(cases, args.scalar_cases)
    print(
        f"scalar, {args.scalar_cases:,} cases: due_at {due_cost * 1e6:.0f} µs/case, "
        f"elapsed_business_seconds {elapsed_cost * 1e6:.0f} µs/case "
        f"(≈ {(due_cost + elapsed_cost) * args.cases:.1f} s for {args.cases:,} cases)"
    )


if __name__ == "__main__":
    main()
