"""Finding and reading labelled CSV files (the shared data and files given to `evaluate`)."""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

DATA_ENV = "VENTANILLA_SHARED_DATA"
FIXTURES_DIR = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "triage"
MAX_FIELD = 1_100_000


def shared_data_dir() -> Path:
    """The shared data folder: $VENTANILLA_SHARED_DATA or ``../shared/data`` next to the repo."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[3] / ".." / "shared" / "data").resolve()


@dataclass(slots=True)
class LabelledRows:
    """Rows of a CSV as dicts of strings, plus how many malformed rows were skipped."""

    rows: list[dict[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    skipped_rows: int = 0


def read_rows(path: Path) -> LabelledRows:
    """Read a CSV tolerantly: undecodable bytes become U+FFFD, malformed rows are skipped."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="replace").replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""))
    out = LabelledRows()
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return out
    out.columns = [h.strip() for h in header]
    width = len(out.columns)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error:
            out.skipped_rows += 1
            continue
        if not values:
            continue
        if len(values) != width:
            out.skipped_rows += 1
            continue
        out.rows.append(dict(zip(out.columns, values, strict=True)))
    return out


def read_shared(name: str, data_dir: Path | None = None) -> list[dict[str, str]]:
    """Rows of ``<data_dir>/<name>/dev.csv`` (e.g. ``airline-tweets-en``)."""
    base = data_dir if data_dir is not None else shared_data_dir()
    return read_rows(base / name / "dev.csv").rows


def read_fixture(name: str) -> list[dict[str, str]]:
    """Rows of one of our own fixtures in ``tests/fixtures/triage`` (shipped with the source)."""
    return read_rows(FIXTURES_DIR / name).rows
