"""Triage speed on one core: batched texts/s (all labels), p95 ms per single post, peak RSS.

Usage: .venv/bin/python bench/triage_speed.py [--repeat N]
Reads tweets from the shared data when present (else synthetic texts).

"first pass, unseen texts" is the figure that matters for ingest: the shipped type table is
rebuilt from a random 80% of the texts of all four shared files, every in-process cache
(chunk and sub-token rows, memoised token info) is emptied, and the other 20% — texts whose
chunks were never cached or tabled — are labelled once. Wall and CPU (process) time are both
reported because the machine may be shared.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ventanilla.triage import features as F  # noqa: E402
from ventanilla.triage.datasets import read_shared, shared_data_dir  # noqa: E402
from ventanilla.triage.model import ALL_LABELS, ARTIFACTS_DIR, Triager, timed_load  # noqa: E402
from ventanilla.triage.training import TYPE_TABLE_MIN_COUNT  # noqa: E402


def _texts() -> list[str]:
    """Shared tweets (en + es + complaints) or synthetic posts when the data is absent."""
    base = shared_data_dir()
    names = ("airline-tweets-en", "airline-tweets-es", "complaints-en")
    if all((base / n / "dev.csv").exists() for n in names):
        return [r["text"] for n in names for r in read_shared(n, base)]
    rng = random.Random(0)
    words = ["vuelo", "retraso", "maleta", "flight", "delayed", "bag", "refund", "gracias", "thanks", "app", "web"]
    return [" ".join(rng.choice(words) for _ in range(12)) for _ in range(20000)]


def _unseen_first_pass(triager: Triager) -> None:
    """First pass over held-out texts after rebuilding the type table from the rest."""
    base = shared_data_dir()
    names = ("airline-tweets-en", "airline-tweets-es", "complaints-en", "offensive-en")
    if not all((base / n / "dev.csv").exists() for n in names):
        print("first pass, unseen texts: skipped (shared data not found)")
        return
    texts = [r["text"] for n in names for r in read_shared(n, base)]
    random.Random(0).shuffle(texts)
    cut = int(0.8 * len(texts))
    seen, unseen = texts[:cut], texts[cut:]
    fresh = Triager.load(ARTIFACTS_DIR)
    tabled = fresh.build_type_table(seen, min_count=TYPE_TABLE_MIN_COUNT)
    F._SUB_INFO.clear()
    start, cpu = time.perf_counter(), time.process_time()
    fresh.label_batch(unseen, ALL_LABELS)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"label_batch all labels, first pass over {len(unseen)} unseen texts "
          f"(table of {tabled} sub-tokens from the other {len(seen)}): "
          f"{len(unseen) / wall:,.0f} texts/s wall, {len(unseen) / cpu:,.0f} texts/s CPU")
    start, cpu = time.perf_counter(), time.process_time()
    fresh.label_batch(unseen, ALL_LABELS)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"label_batch all labels, second pass over them: {len(unseen) / wall:,.0f} texts/s "
          f"wall, {len(unseen) / cpu:,.0f} texts/s CPU")


def main() -> None:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = _texts()
    triager, load_s = timed_load()
    print(f"artefacts loaded in {load_s:.3f} s ({triager.version}); {len(texts)} texts")
    start = time.perf_counter()
    triager.label_batch(texts, ALL_LABELS)
    cold = len(texts) / (time.perf_counter() - start)
    print(f"label_batch all labels, cold type cache: {cold:,.0f} texts/s")
    best = 0.0
    for _ in range(args.repeat):
        start = time.perf_counter()
        triager.label_batch(texts, ALL_LABELS)
        best = max(best, len(texts) / (time.perf_counter() - start))
    print(f"label_batch all labels, warm (best of {args.repeat}): {best:,.0f} texts/s")
    start = time.perf_counter()
    triager.label_batch(texts, ("sentiment", "complaint"))
    print(f"label_batch sentiment+complaint, warm: "
          f"{len(texts) / (time.perf_counter() - start):,.0f} texts/s")
    start = time.perf_counter()
    triager.predict(texts)
    print(f"predict (TriageResult objects, evidence, urgency), warm: "
          f"{len(texts) / (time.perf_counter() - start):,.0f} texts/s")
    sample = random.Random(1).sample(texts, min(1000, len(texts)))
    times = []
    for text in sample:
        start = time.perf_counter()
        triager.predict([text])
        times.append((time.perf_counter() - start) * 1000)
    print(f"predict one post at a time: p50 {np.percentile(times, 50):.2f} ms, "
          f"p95 {np.percentile(times, 95):.2f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (one triager, the texts above, warm caches)")
    _unseen_first_pass(triager)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB (after the unseen-text run: a second triager, 35k more texts)")


if __name__ == "__main__":
    main()
