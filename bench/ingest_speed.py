"""Ingest throughput: the largest CSV in ../shared/data imported into SQLite and PostgreSQL.

Prints two figures per engine: storing (parse, dedup, authors, posts: what `ventanilla ingest`
does when workers process the posts) and the whole in-process pipeline of `ventanilla ingest`
(storing + triage + cases + audit + event subscribers), each with its CPU time (for the pipeline,
also that of its helper processes: the next chunk's triage and the crisis scans run beside the
import on a second core), and the time the search-index job then takes to catch up (it runs
behind ingest).
Goal: >= 5,000 posts/s on SQLite, >= 3,000 posts/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _databases import fresh_database, pg_available

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VENTANILLA_SHARED_DATA", ROOT.parent / "shared" / "data"))


def largest_csv() -> Path | None:
    files = sorted(SHARED.glob("*/dev.csv"), key=lambda p: p.stat().st_size, reverse=True)
    return files[0] if files else None


def run(engine: str, path: Path, figures: str = "store,pipeline") -> None:
    """Two figures per engine: storing (parse, dedup, authors, posts) and the whole pipeline
    (storing + triage + cases + audit + event subscribers), each on a fresh database."""
    if "store" in figures.split(","):
        store(engine, path)
    if "pipeline" in figures.split(","):
        pipeline(engine, path)


def store(engine: str, path: Path) -> None:
    """Storing only (what `ventanilla ingest` does when workers process the posts)."""
    from ventanilla.ingest.files import Parsed, read_csv

    with fresh_database(engine):
        from ventanilla.accounts.bootstrap import ensure_workspace
        from ventanilla.db import session_scope
        from ventanilla.ingest.channels import get_or_create_channel
        from ventanilla.ingest.service import accept

        with session_scope() as s:
            ws = ensure_workspace(s, slug="bench", name="Bench", timezone="UTC").id
            channel_id = get_or_create_channel(s, workspace_id=ws, slug="bench", network="x").id
        start, cpu_start = time.perf_counter(), time.process_time()
        _unknown, items = read_csv(path.read_bytes())
        posts = [i.post for i in items if isinstance(i, Parsed)]
        stored = 0
        from ventanilla.ingest.models import Channel

        for begin in range(0, len(posts), 2000):
            with session_scope() as s:
                channel = s.get(Channel, channel_id)
                stored += len(accept(s, channel=channel, posts=posts[begin:begin + 2000]).new_post_ids)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        print(f"{engine:<11} store     {stored:>7} posts in {seconds:6.2f} s = {stored / seconds:8,.0f} posts/s "
              f"(CPU {cpu:.2f} s = {stored / cpu:,.0f} posts/s)")
        catch_up(engine)


def pipeline(engine: str, path: Path) -> None:
    """The whole in-process pipeline of `ventanilla ingest` (`import_file`)."""
    with fresh_database(engine):
        from ventanilla.accounts.bootstrap import ensure_workspace
        from ventanilla.db import session_scope
        from ventanilla.ingest.importer import import_file
        from ventanilla.triage.model import load_triager

        load_triager()  # loaded once per process in real use too
        with session_scope() as s:
            ws = ensure_workspace(s, slug="bench", name="Bench", timezone="UTC").id
        start, cpu_start, helpers_start = time.perf_counter(), time.process_time(), _children_cpu()
        summary = import_file(path, workspace_id=ws, channel_slug="bench", report_path=Path(os.devnull))
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        helpers = _children_cpu() - helpers_start
        print(f"{engine:<11} pipeline  {summary.new:>7} posts in {seconds:6.2f} s = {summary.new / seconds:8,.0f} "
              f"posts/s (CPU {cpu:.2f} s here + {helpers:.2f} s in the triage and crisis-scan processes; "
              f"triage, cases, audit, crisis scan; rejected {summary.rejected})")
        catch_up(engine)


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the import's helper processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def catch_up(engine: str) -> None:
    """The search index job's share, done after ingest (the clock runs it every 10 s)."""
    from ventanilla.cases.search import index_all
    from ventanilla.db import session_scope

    start = time.perf_counter()
    with session_scope() as s:
        indexed = index_all(s)
    seconds = time.perf_counter() - start
    print(f"{engine:<11} search index job: {indexed} posts in {seconds:6.2f} s (behind ingest, not in its figure)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per engine (the machine may be shared: compare the best, and CPU)")
    parser.add_argument("--figures", default="store,pipeline",
                        help="which figures: store, pipeline or both (comma-separated)")
    args = parser.parse_args()
    path = args.file or largest_csv()
    if path is None:
        print("no CSV given and ../shared/data not found; pass --file")
        return
    print(f"ingest benchmark: {path}")
    for engine in args.engines.split(","):
        if engine == "postgresql" and not pg_available():
            print("postgresql  skipped: not reachable")
            continue
        for _ in range(max(1, args.repeat)):
            run(engine, path, args.figures)


if __name__ == "__main__":
    main()
