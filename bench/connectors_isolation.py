"""One connector failing leaves the others' throughput unchanged (the real sync scheduler).

    .venv/bin/python bench/connectors_isolation.py [--channels 3] [--backlog 600] [--modes 500,hang,429]

Each healthy channel is an X account on its own local simulator (``tests/connectors_sim``,
127.0.0.1 only) holding ``--backlog`` new mentions; the channels are synced by
``ventanilla.ingest.sync.Scheduler`` (the loop ``ventanilla channels sync --loop`` runs) on a
fresh SQLite database, with the whole pipeline (accept, triage, cases) in-process. Measured:
items/s per healthy channel (its backlog over the time it took to drain it), first with every
channel healthy, then with one more channel failing in each mode:

* ``500``: every request answers HTTP 500 (the channel backs off, and is retried each round:
  the bench moves the clock so it is due again at once, the worst case);
* ``hang``: every request is held open until the run ends (a network that never answers);
* ``429``: every request is rate limited.

Prints wall and CPU time and the ratio failing/healthy (goal: >= 0.9, i.e. unchanged within
noise).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer
from tests.connectors_sim.x import ACCOUNT_ID, XSim

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
    from ventanilla.db import get_engine, session_scope, utcnow
    from ventanilla.ingest import sync
    from ventanilla.ingest.models import Post

    with fresh_database("sqlite"):
        engine = get_engine()
        with session_scope(engine) as s:
            ws = ensure_workspace(s, slug="bench", name="Bench", timezone="UTC").id
        servers: list[SimServer] = []
        sims: list[XSim] = []
        ids: list[int] = []
        for n in range(channels):
            server = SimServer().start()
            servers.append(server)
            sims.append(XSim(server))
            # Tweet ids are unique per network: each simulated account gets its own range.
            sims[-1]._ids = itertools.count(1_870_000_000_000_000_000 + n * 10**9)
            sims[-1].add_mention("@AcmeAyuda hola")  # first sync: listens from here
            ids.append(_add_channel(engine, ws, f"healthy-{n}", server.base_url))
        release = threading.Event()
        bad_id = None
        if mode is not None:
            bad = SimServer().start()
            servers.append(bad)
            XSim(bad)
            if mode == "500":
                bad.fail_with_status(500, times=None)
            elif mode == "429":
                bad.fail_with_rate_limit(1, times=None)  # type: ignore[arg-type]
            elif mode == "hang":
                def hang(request: SimRequest) -> SimResponse | None:
                    release.wait(600)
                    return None
                bad.guards.append(hang)
            bad_id = _add_channel(engine, ws, f"failing-{mode}", bad.base_url)
        scheduler = sync.Scheduler(engine, owner="bench", workers=workers)
        try:
            # First sync of every channel (newest page only), then the backlog arrives.
            for cid in ids:
                sync.sync_channel(engine, cid, owner="bench-setup")
            for x in sims:
                for i in range(backlog):
                    x.add_mention(f"@AcmeAyuda pedido {i} sin entregar, ¿dónde está mi maleta?")
            with session_scope(engine) as s:
                base = {cid: s.scalar(select(func.count()).select_from(Post).where(Post.channel_id == cid)) or 0
                        for cid in ids}
            start, cpu0 = time.perf_counter(), time.process_time()
            finished: dict[int, float] = {}
            clock = utcnow()
            while len(finished) < len(ids):
                clock += timedelta(hours=2)  # every channel, the failing one too, is due each tick
                for outcome in scheduler.tick(now=clock):
                    if outcome.channel_id in finished or outcome.channel_id == bad_id:
                        continue
                    with session_scope(engine) as s:
                        stored = s.scalar(select(func.count()).select_from(Post)
                                          .where(Post.channel_id == outcome.channel_id)) or 0
                    if stored - base[outcome.channel_id] >= backlog:
                        finished[outcome.channel_id] = time.perf_counter() - start
                time.sleep(0.01)
                if time.perf_counter() - start > 900:
                    raise RuntimeError("scenario did not finish in 15 minutes")
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
        finally:
            release.set()
            scheduler.close(wait=True)
            for server in servers:
                server.stop()
            from ventanilla.db import dispose_engines

            dispose_engines()
        rates = [backlog / finished[cid] for cid in ids]
        return {"per_channel": statistics.mean(rates), "min": min(rates), "wall": wall, "cpu": cpu}


def main(argv: list[str] | None = None) -> int:
    """Print items/s per healthy channel, all healthy and with one failing per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3, help="healthy channels")
    parser.add_argument("--backlog", type=int, default=600, help="new mentions per healthy channel")
    parser.add_argument("--modes", default="500,hang,429")
    parser.add_argument("--workers", type=int, default=4, help="scheduler worker threads")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the failing channel's warnings are expected
    modes = [m for m in args.modes.split(",") if m]
    print(f"{args.channels} healthy X channels x {args.backlog} mentions, {args.workers} workers, SQLite, "
          "pipeline in-process")
    print(f"{'scenario':<16}{'items/s/channel':>16}{'slowest':>10}{'wall s':>9}{'cpu s':>8}{'ratio':>8}")
    healthy = scenario(None, args.channels, args.backlog, args.workers)
    print(f"{'all healthy':<16}{healthy['per_channel']:>16,.0f}{healthy['min']:>10,.0f}"
          f"{healthy['wall']:>9.1f}{healthy['cpu']:>8.1f}{1.0:>8.2f}")
    worst = 1.0
    for mode in modes:
        result = scenario(mode, args.channels, args.backlog, args.workers)
        ratio = result["per_channel"] / healthy["per_channel"]
        worst = min(worst, ratio)
        print(f"{'one ' + mode:<16}{result['per_channel']:>16,.0f}{result['min']:>10,.0f}"
              f"{result['wall']:>9.1f}{result['cpu']:>8.1f}{ratio:>8.2f}")
    print(f"worst ratio {worst:.2f} (goal >= {GOAL_RATIO}): {'ok' if worst >= GOAL_RATIO else 'BELOW GOAL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
