"""Benchmark: replay synthetic labelled posts through the crisis monitor on one core.

Generates posts hour by hour (labels pre-computed, so triage is not measured here), feeds
them to `CrisisMonitor.observe` (signals, detectors, topics, episodes) and prints throughput,
total time, peak RSS and the p50/p95/p99 latency of one `observe` call.

    .venv/bin/python bench/crisis_replay.py [--posts 1000000] [--brands 10]

Goals (GOALS.md, issue 7): < 60 s for 1,000,000 posts, < 500 MB peak RSS, p95 < 1 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np

from ventanilla.crisis.monitor import CrisisMonitor
from ventanilla.crisis.synthetic import SyntheticBurst, diurnal, stream

START_HOUR = 1_424_131_200 // 3600  # 2015-02-17T00:00Z


def hours_needed(posts: int, brands: int, posts_per_hour: float) -> int:
    """How many hours of stream give about `posts` posts (the daily rhythm averages to 1)."""
    per_day = sum(diurnal(h) for h in range(24)) * brands * posts_per_hour
    return int(posts / per_day * 24) + 1


def main() -> None:
    """Run the benchmark and print its figures (text, or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--brands", type=int, default=10)
    parser.add_argument("--posts-per-hour", type=float, default=120.0, help="per brand")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    brands = [f"brand-{i}" for i in range(args.brands)]
    hours = hours_needed(args.posts, args.brands, args.posts_per_hour)
    bursts = [
        SyntheticBurst(brands[i % args.brands], START_HOUR + h, 6.0, "cancelled flights")
        for i, h in enumerate(range(60, hours, 97))
    ]
    stream_args = {
        "brands": brands,
        "start_hour": START_HOUR,
        "hours": hours,
        "posts_per_hour": args.posts_per_hour,
        "bursts": bursts,
        "seed": args.seed,
    }
    # CPU spent generating posts alone, to tell the monitor's own CPU time apart.
    cpu_started = time.process_time()
    for generated, _post in enumerate(stream(**stream_args), start=1):  # type: ignore[arg-type]
        if generated >= args.posts:
            break
    generation_cpu = time.process_time() - cpu_started

    monitor = CrisisMonitor()
    latencies = np.empty(args.posts, dtype=np.int64)
    events = 0
    n = 0
    observe = monitor.observe
    clock = time.perf_counter_ns
    started = time.perf_counter()
    cpu_started = time.process_time()
    in_monitor = 0
    for post in stream(**stream_args):  # type: ignore[arg-type]
        t0 = clock()
        events += len(observe(post))
        elapsed = clock() - t0
        in_monitor += elapsed
        latencies[n] = elapsed
        n += 1
        if n >= args.posts:
            break
    total = time.perf_counter() - started
    cpu_total = time.process_time() - cpu_started
    latencies = latencies[:n]
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p50, p95, p99 = (float(np.percentile(latencies, q)) / 1000 for q in (50, 95, 99))
    figures = {
        "posts": n,
        "brands": args.brands,
        "hours": hours,
        "events": events,
        "monitor_seconds": round(in_monitor / 1e9, 2),
        "total_seconds": round(total, 2),
        "total_cpu_seconds": round(cpu_total, 2),
        "generation_cpu_seconds": round(generation_cpu, 2),
        "monitor_cpu_seconds": round(cpu_total - generation_cpu, 2),
        "posts_per_second": round(n / (in_monitor / 1e9)),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "observe_p50_us": round(p50, 1),
        "observe_p95_us": round(p95, 1),
        "observe_p99_us": round(p99, 1),
        "streams": len(monitor.signals),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"posts                {n:,} ({args.brands} brands, {hours} hours, {events} events)")
    monitor_cpu = max(cpu_total - generation_cpu, 1e-9)
    print(
        f"monitor CPU          {figures['monitor_cpu_seconds']} s ({n / monitor_cpu:,.0f} posts/s); "
        f"wall {figures['monitor_seconds']} s ({figures['posts_per_second']:,} posts/s)"
    )
    print(
        f"total incl. generation {figures['total_seconds']} s wall, "
        f"{figures['total_cpu_seconds']} s CPU (one core; wall > CPU means a busy machine)"
    )
    print(f"peak RSS             {figures['peak_rss_mb']} MB")
    print(f"observe latency      p50 {p50:.1f} µs · p95 {p95:.1f} µs · p99 {p99:.1f} µs")
    print(f"python               {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
