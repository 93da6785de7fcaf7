"""Held-out-shaped check of crisis early warning: subsamples and time halves of the dev files.

The unseen test data are the other 30 % of each shared data set: the same weeks, ≈ 0.43 × the
dev file's hourly counts. This script builds stratified (by `sentiment`) 3/7 subsamples of each
dev file, one per seed, and the two halves of the file in time (cut at the middle row), writes
them to a temporary directory (never into the project), replays each through
`ventanilla.crisis.replay.replay` (what `ventanilla crisis replay --json` calls) with the
project's triage models, and prints per file and group: the share of brands whose largest burst
was warned before its peak hour ended, the share of the five largest bursts per brand warned,
and false alarms per brand per week, averaged over the seeds.

Triage labels each distinct text once per run (labels depend on the text only), so the replays
measure the same alerts as the CLI at a fraction of the time.

Seeds (docs/crisis.md, "Measured figures"): tune on 11–20 only; report on 1–3 (the figures
issue 7 quotes) and 21–30 (final, untouched check).

    .venv/bin/python bench/crisis_heldout.py [--data ../shared/data] [--seeds 11-20]
        [--groups tune|report|all] [--set record_fraction=0.8 ...] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ventanilla.crisis.replay import Labeller, replay
from ventanilla.crisis.settings import DetectorSettings

FILES = ("airline-tweets-en", "airline-tweets-es")
TUNING_SEEDS = tuple(range(11, 21))
REPORT_SEEDS = tuple(range(1, 4))
FINAL_SEEDS = tuple(range(21, 31))
SHARE = 3 / 7  # the held-out 30 % is 3/7 of the 70 % dev file


class CachedLabeller:
    """Labels each distinct text once with the wrapped labeller (labels depend on text only)."""

    def __init__(self, inner: Labeller) -> None:
        self.inner = inner
        self.cache: dict[str, tuple[str, str, str]] = {}

    def prime(self, texts: Sequence[str]) -> None:
        """Label every text not labelled yet, in one pass."""
        todo = sorted({t for t in texts if t not in self.cache})
        for start in range(0, len(todo), 2048):
            batch = todo[start : start + 2048]
            out = self.inner.label_batch(batch, labels=("sentiment", "complaint", "reason"))
            for text, s, c, r in zip(batch, out["sentiment"], out["complaint"], out["reason"], strict=True):
                self.cache[text] = (str(s), str(c), str(r) if r else "unknown")

    def label_batch(
        self, texts: Sequence[str], labels: Sequence[str] = ("sentiment", "complaint")
    ) -> Mapping[str, Any]:
        """Arrays of label strings, like the triager's fast path."""
        self.prime(texts)
        index = {"sentiment": 0, "complaint": 1, "reason": 2}
        return {name: np.array([self.cache[t][index[name]] for t in texts], dtype=object) for name in labels}


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows of a CSV."""
    csv.field_size_limit(1_000_000)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or ()), list(reader)


def stratified_sample(rows: list[dict[str, str]], seed: int, share: float = SHARE) -> list[dict[str, str]]:
    """`share` of the rows of each sentiment, drawn with `seed` (file order kept)."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        by_label[row.get("sentiment", "")].append(i)
    chosen: list[int] = []
    for label in sorted(by_label):
        indices = by_label[label]
        chosen.extend(rng.sample(indices, round(len(indices) * share)))
    return [rows[i] for i in sorted(chosen)]


def halves(rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The rows cut at the middle row in time."""
    ordered = sorted(rows, key=lambda r: r["created_at"])
    middle = len(ordered) // 2
    return ordered[:middle], ordered[middle:]


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    """Write rows as a CSV (in the temporary directory)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def measure(path: Path, labeller: Labeller, settings: DetectorSettings) -> dict[str, float]:
    """Replay one file and keep the three figures."""
    result = replay(path, labeller, settings=settings).to_json()
    return {
        "largest": result["largest_burst_hit_rate"],
        "top5": result["hit_rate"],
        "fa": result["false_alarms_per_brand_week"],
    }


def mean(values: list[dict[str, float]]) -> dict[str, float]:
    """Average of figures over seeds."""
    return {key: round(sum(v[key] for v in values) / len(values), 3) for key in values[0]}


def parse_seeds(text: str) -> tuple[int, ...]:
    """Seeds written as ranges and lists, e.g. 11-20 or 1,2,3."""
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            seeds.extend(range(int(low), int(high) + 1))
        elif part:
            seeds.append(int(part))
    return tuple(seeds)


def parse_value(text: str) -> Any:
    """A --set value: JSON when it parses (numbers, lists, booleans), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    """Build the samples, replay them and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument(
        "--groups",
        choices=("tune", "report", "all"),
        default="tune",
        help="tune: seeds 11-20; report: whole files, halves, seeds 1-3 and 21-30; all: both",
    )
    parser.add_argument("--seeds", type=parse_seeds, default=None, help="override the tuning seeds, e.g. 11-20")
    parser.add_argument("--set", action="append", default=[], help="a DetectorSettings override, name=value")
    parser.add_argument("--files", default=",".join(FILES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name] = parse_value(value)
    settings = DetectorSettings().with_overrides(**overrides)

    from ventanilla.triage.model import load_triager

    labeller = CachedLabeller(load_triager())
    groups: list[tuple[str, tuple[int, ...] | None]] = []
    if args.groups in ("tune", "all"):
        groups.append(("seeds 11-20 (tuning)", args.seeds or TUNING_SEEDS))
    if args.groups in ("report", "all"):
        groups += [
            ("whole dev file", None),
            ("first half", (-1,)),
            ("second half", (-2,)),
            ("seeds 1-3 (issue 7)", REPORT_SEEDS),
            ("seeds 21-30 (final check)", FINAL_SEEDS),
        ]

    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="ventanilla-crisis-heldout-") as tmp:
        for name in args.files.split(","):
            source = args.data / name / "dev.csv"
            header, rows = read_rows(source)
            labeller.prime([r["text"] for r in rows])
            results[name] = {}
            for group, seeds in groups:
                figures: list[dict[str, float]] = []
                if seeds is None:
                    figures.append(measure(source, labeller, settings))
                else:
                    for seed in seeds:
                        # Negative "seeds" stand for the first (-1) and second (-2) half in time.
                        part = halves(rows)[-seed - 1] if seed < 0 else stratified_sample(rows, seed)
                        path = write_rows(Path(tmp) / f"{name}-{seed}.csv", header, part)
                        figures.append(measure(path, labeller, settings))
                results[name][group] = mean(figures)
                if not args.json:
                    f = results[name][group]
                    print(
                        f"{name:<18} {group:<26} largest {f['largest']:.2f}  top-5 {f['top5']:.2f}"
                        f"  false alarms/brand-week {f['fa']:.2f}",
                        flush=True,
                    )
    if args.json:
        json.dump({"settings": overrides, "results": results}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
