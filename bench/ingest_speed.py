"""Ingest throughput: the largest CSV in ../shared/data imported into SQLite and PostgreSQL.

Runs the real path (`ventanilla ingest`: parse, dedup, store, triage, open cases, audit).
Goal: >= 5,000 posts/s on SQLite, >= 3,000 posts/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
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


def run(engine: str, path: Path) -> float:
    with fresh_database(engine):
        from ventanilla.accounts.bootstrap import ensure_workspace
        from ventanilla.db import session_scope
        from ventanilla.ingest.importer import import_file

        with session_scope() as s:
            ws = ensure_workspace(s, slug="bench", name="Bench", timezone="UTC").id
        start = time.perf_counter()
        summary = import_file(path, workspace_id=ws, channel_slug="bench", report_path=Path(os.devnull))
        seconds = time.perf_counter() - start
        rate = summary.new / seconds
        print(f"{engine:<11} {summary.new:>7} posts in {seconds:6.2f} s = {rate:8,.0f} posts/s "
              f"(rejected {summary.rejected})")
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--engines", default="sqlite,postgresql")
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
        run(engine, path)


if __name__ == "__main__":
    main()
