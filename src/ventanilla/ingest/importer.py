"""Importing a whole file: chunks of posts accepted and committed, rejections reported."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ventanilla.bulk import fewer_collections
from ventanilla.db import session_scope
from ventanilla.ingest.channels import get_or_create_channel
from ventanilla.ingest.files import FileError, Parsed, Rejection, read_csv, read_jsonl, sniff_format
from ventanilla.ingest.schema import IncomingPost
from ventanilla.ingest.service import accept
from ventanilla.workers.pipeline import hand_over, processes_inline


@dataclass(slots=True)
class ImportSummary:
    """Counts of one import, the unknown columns kept as raw data, and the report path."""

    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    report: Path | None = None

    def as_dict(self) -> dict[str, object]:
        return {"new": self.new, "duplicate": self.duplicate, "rejected": self.rejected,
                "unknown_columns": self.unknown_columns,
                "report": str(self.report) if self.report else None}


def _stream(path: Path, data: bytes, fmt: str, mapping: dict[str, str] | None, network: str,
            encoding: str | None) -> tuple[list[str], Iterator[Parsed | Rejection]]:
    if fmt == "jsonl":
        return [], read_jsonl(data, network=network)
    return read_csv(data, mapping=mapping, network=network, encoding=encoding)


def import_file(
    path: Path, *, workspace_id: int, channel_slug: str, network: str = "x",
    mapping: dict[str, str] | None = None, encoding: str | None = None, fmt: str | None = None,
    report_path: Path | None = None, chunk: int = 2000, engine: Engine | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import ``path`` (CSV or JSONL) into the workspace's channel; safe to run twice."""
    if not path.exists():
        raise FileError(f"no such file: {path}")
    data = path.read_bytes()
    fmt = fmt or sniff_format(path)
    unknown, items = _stream(path, data, fmt, mapping, network, encoding)
    summary = ImportSummary(unknown_columns=unknown)
    report_path = report_path or path.with_name(path.name + ".rejected.csv")
    rejections: list[Rejection] = []
    with session_scope(engine) as session:
        channel = get_or_create_channel(session, workspace_id=workspace_id, slug=channel_slug,
                                        network=network)
        channel_id = channel.id

    # In-process pipeline: each post is labelled and placed before it is written, in the same
    # transaction. With workers (Celery), posts are stored here and handed over after commit.
    inline = processes_inline()

    def flush(batch: list[IncomingPost]) -> None:
        with session_scope(engine) as session:
            from ventanilla.ingest.models import Channel

            ch = session.get(Channel, channel_id)
            assert ch is not None
            result = accept(session, channel=ch, posts=batch, process=inline)
        summary.new += len(result.new_post_ids)
        summary.duplicate += result.duplicates
        if not result.processed:
            hand_over(result.new_post_ids)
        if progress:
            progress(len(batch))

    batch: list[IncomingPost] = []
    with fewer_collections():
        for item in items:
            if isinstance(item, Rejection):
                rejections.append(item)
                if progress:
                    progress(1)
                continue
            batch.append(item.post)
            if len(batch) >= chunk:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    summary.rejected = len(rejections)
    if rejections:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        with report_path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["line", "reason", "content"])
            for r in rejections:
                writer.writerow([r.line, r.reason, r.content])
        summary.report = report_path
    return summary


def count_lines(path: Path) -> int:
    """A cheap estimate of the work (progress bar total)."""
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)
