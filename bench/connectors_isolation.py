"""One connector failing leaves the others' throughput unchanged (the real sync scheduler).

    .venv/bin/python bench/connectors_isolation.py [--channels 3] [--backlog 2000] [--modes 500,hang,429]
                                                   [--repeat 7]

Each healthy channel is an X account on its own local simulator (``tests/connectors_sim``,
127.0.0.1 only) holding ``--backlog`` new mentions; the channels are synced by
``ventanilla.ingest.sync.Scheduler`` (the loop ``ventanilla channels sync --loop`` runs) on a
fresh SQLite database, with the whole pipeline (accept, triage, cases) in-process. Every
simulator runs in a process of its own (``tests/connectors_sim/x_process.py``), as a real
network is not in ours: a simulator serving in our process would compete with the code
measured for the interpreter. Measured: items/s per healthy channel (its backlog over the
time it took to drain it), first with every channel healthy, then with one more channel
failing in each mode:

* ``500``: every request answers HTTP 500 (the channel backs off, and is retried each round:
  the bench moves the clock so it is due again at once, the worst case);
* ``hang``: every request is held open until the run ends (a network that never answers);
* ``429``: every request is rate limited (also due again at once).

After an uncounted warm-up, each scenario runs once per round (healthy and each failing mode,
in alternating order), ``--repeat`` rounds; the medians are printed. Wall and CPU time are
this process's (the desk's; the simulators' processes are not counted). The ratio is
failing/healthy items/s, each failing run against the healthy run of its round (median, and
the range over the rounds; goal: >= 0.9, i.e. unchanged within noise); ``cpu ratio``
compares the desk's CPU per healthy item the same way, which other processes on the machine
disturb less than wall time; ``their cpu`` is the share of the desk's CPU that the failing
channel's syncs used (thread CPU time, which the machine's load hardly moves).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.connectors_sim.x import ACCOUNT_ID
from tests.connectors_sim.x_process import XSimProcess

from _databases import fresh_database

GOAL_RATIO = 0.9


def _add_channel(engine: object, workspace_id: int, slug: str, base_url: str) -> int:
    from ventanilla.db import session_scope
    from ventanilla.ingest.channels import create_channel
    from ventanilla.ingest.sync import enable_polling

    with session_scope(engine) as s:  # type: ignore[arg-type]
        channel = create_channel(s, workspace_id=workspace_id, slug=slug, name=slug, network="x",
                                 account="@AcmeAyuda", secrets_={"access_token": "bench-token"},
                                 settings={"base_url": base_url, "user_id": ACCOUNT_ID,
                                           "streams": ["mentions"], "page_size": 100})
        enable_polling(s, channel, poll_seconds=300)
        return channel.id


def scenario(mode: str | None, channels: int, backlog: int, workers: int) -> dict[str, float]:
    """Run one scenario on a fresh database; return items/s per healthy channel and times."""
    from sqlalchemy import func, select

    from ventanilla.accounts.bootstrap import ensure_workspace
    from ventanilla.db import get_engine, session_factory, session_scope, utcnow
    from ventanilla.ingest import sync
    from ventanilla.ingest.models import Post

    with fresh_database("sqlite"):
        engine = get_engine()
        reader = session_factory(engine, readonly=True)  # counting must not queue for the write lock
        with session_scope(engine) as s:
            ws = ensure_workspace(s, slug="bench", name="Bench", timezone="UTC").id
        sims: list[XSimProcess] = []
        ids: list[int] = []
        scheduler = None
        try:
            for n in range(channels):
                sims.append(XSimProcess(first_id=1_870_000_000_000_000_000 + n * 10**9).start())
                sims[-1].add_mentions(["@AcmeAyuda hola"])  # first sync: listens from here
                ids.append(_add_channel(engine, ws, f"healthy-{n}", sims[-1].base_url))
            bad_id = None
            if mode is not None:
                sims.append(XSimProcess(failure=mode).start())
                bad_id = _add_channel(engine, ws, f"failing-{mode}", sims[-1].base_url)
            scheduler = sync.Scheduler(engine, owner="bench", workers=workers)
            synced_by_thread = sync._sync_guarded
            failing_cpu = [0.0]

            def timed(factory: Any, channel_id: int, *args: Any) -> Any:
                # The CPU the failing channel's syncs use in their own threads: what it takes
                # from the healthy ones, measured without the noise of the rest of the machine.
                began = time.thread_time()
                try:
                    return synced_by_thread(factory, channel_id, *args)
                finally:
                    if channel_id == bad_id:
                        failing_cpu[0] += time.thread_time() - began

            sync._sync_guarded = timed  # type: ignore[assignment]
            # First sync of every channel (newest page only), then the backlog arrives.
            for cid in ids:
                sync.sync_channel(engine, cid, owner="bench-setup")
            for x in sims[:channels]:
                x.add_mentions([f"@AcmeAyuda pedido {i} sin entregar, ¿dónde está mi maleta?"
                                for i in range(backlog)])
            with reader() as s:
                base = {cid: s.scalar(select(func.count()).select_from(Post).where(Post.channel_id == cid)) or 0
                        for cid in ids}
            start, cpu0 = time.perf_counter(), time.process_time()
            finished: dict[int, float] = {}
            failing_syncs = 0
            clock = utcnow()
            while len(finished) < len(ids):
                clock += timedelta(hours=2)  # every channel, the failing one too, is due each tick
                for outcome in scheduler.tick(now=clock):
                    if outcome.channel_id == bad_id:
                        failing_syncs += 1
                    if outcome.channel_id in finished or outcome.channel_id == bad_id:
                        continue
                    with reader() as s:
                        stored = s.scalar(select(func.count()).select_from(Post)
                                          .where(Post.channel_id == outcome.channel_id)) or 0
                    if stored - base[outcome.channel_id] >= backlog:
                        finished[outcome.channel_id] = time.perf_counter() - start
                time.sleep(0.01)
                if time.perf_counter() - start > 900:
                    raise RuntimeError("scenario did not finish in 15 minutes")
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
        finally:
            for sim in sims:  # first: a hanging request is let go, so the scheduler can stop
                sim.stop()
            if scheduler is not None:
                scheduler.close(wait=True)
                sync._sync_guarded = synced_by_thread  # type: ignore[assignment]
            from ventanilla.db import dispose_engines

            dispose_engines()
        rates = [backlog / finished[cid] for cid in ids]
        return {"per_channel": statistics.mean(rates), "min": min(rates), "wall": wall, "cpu": cpu,
                "cpu_per_item": cpu / (backlog * channels), "failing_syncs": failing_syncs,
                "failing_cpu_share": failing_cpu[0] / cpu if cpu else 0.0}


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv: list[str] | None = None) -> int:
    """Print items/s per healthy channel, all healthy and with one failing per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3, help="healthy channels")
    parser.add_argument("--backlog", type=int, default=2000, help="new mentions per healthy channel")
    parser.add_argument("--modes", default="500,hang,429")
    parser.add_argument("--workers", type=int, default=4, help="scheduler worker threads")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (medians are printed)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the failing channel's warnings are expected
    modes = [m for m in args.modes.split(",") if m]
    print(f"{args.channels} healthy X channels x {args.backlog} mentions, {args.workers} workers, SQLite, "
          f"pipeline in-process, simulators in their own processes, median of {args.repeat}")
    runs: dict[str | None, list[dict[str, float]]] = {mode: [] for mode in [None, *modes]}
    scenario(None, args.channels, min(args.backlog, 200), args.workers)  # warm-up (imports, models): not counted
    for round_ in range(max(1, args.repeat)):
        order = list(runs) if round_ % 2 == 0 else list(reversed(runs))  # no scenario always runs first
        for mode in order:
            runs[mode].append(scenario(mode, args.channels, args.backlog, args.workers))
    print(f"{'scenario':<14}{'items/s/channel':>16}{'slowest':>9}{'wall s':>8}{'cpu s':>7}"
          f"{'cpu ms/item':>12}{'failed syncs':>13}{'their cpu':>10}{'ratio':>7}{'range':>12}{'cpu ratio':>10}")
    worst = float("inf")
    for mode, results in runs.items():
        result = _median(results)
        # Each round's failing run against the healthy run just before it: the load other
        # processes put on the machine drifts between rounds much more than within one.
        ratios = [r["per_channel"] / h["per_channel"] for r, h in zip(results, runs[None], strict=True)]
        cpu_ratios = [h["cpu_per_item"] / r["cpu_per_item"] for r, h in zip(results, runs[None], strict=True)]
        ratio = statistics.median(ratios)
        if mode is not None:
            worst = min(worst, ratio)
        label = "all healthy" if mode is None else f"one {mode}"
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
        print(f"{label:<14}{result['per_channel']:>16,.0f}{result['min']:>9,.0f}{result['wall']:>8.2f}"
              f"{result['cpu']:>7.2f}{result['cpu_per_item'] * 1000:>12.3f}{result['failing_syncs']:>13,.0f}"
              f"{result['failing_cpu_share']:>10.1%}"
              f"{ratio:>7.2f}{spread:>12}{statistics.median(cpu_ratios):>10.2f}")
    print(f"worst ratio {worst:.2f} (goal >= {GOAL_RATIO}): {'ok' if worst >= GOAL_RATIO else 'BELOW GOAL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
