"""Tone-linter throughput on one core: replies per second and p95 latency.

Run: .venv/bin/python bench/replies_lint.py [--seconds 5]
Lints every reply of the shipped labelled set (es and en, 40-600 chars) in a loop.
Prints figures; it is not a pass/fail test (goal in ../shared/GOALS.md: >= 1,000 replies/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from ventanilla.replies.labelled_set import read_labelled_set
from ventanilla.replies.lint import lint


def main() -> None:
    """Lint the shipped replies for a few seconds and print replies/s and latency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    replies = read_labelled_set()
    # Warm up: load the model, fill caches, compile patterns.
    for reply in replies:
        lint(reply.text, customer_lang=reply.customer_lang, public=reply.public,
             network=reply.network, first_reply=reply.first_reply,
             is_complaint=reply.is_complaint)
    latencies: list[float] = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    while time.perf_counter() - started < args.seconds:
        for reply in replies:
            began = time.perf_counter()
            lint(reply.text, customer_lang=reply.customer_lang, public=reply.public,
                 network=reply.network, first_reply=reply.first_reply,
                 is_complaint=reply.is_complaint)
            latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(f"replies linted: {len(latencies)} in {elapsed:.2f} s")
    print(f"throughput: {len(latencies) / elapsed:,.0f} replies/s wall clock (one process)")
    # On a shared machine the wall clock includes time spent waiting for a core.
    print(f"throughput: {len(latencies) / cpu:,.0f} replies/s per CPU-second (one core busy)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"latency: median {statistics.median(latencies) * 1000:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
