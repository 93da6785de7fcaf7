"""Importing a whole file: chunks of posts accepted and committed, rejections reported."""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ventanilla.bulk import fewer_collections
from ventanilla.config import get_settings
from ventanilla.crisis.live import scans_behind
from ventanilla.db import session_scope
from ventanilla.ingest.channels import get_or_create_channel
from ventanilla.ingest.files import FileError, Parsed, Rejection, read_csv, read_jsonl, sniff_format
from ventanilla.ingest.schema import IncomingPost
from ventanilla.ingest.service import accept
from ventanilla.triage.service import Prediction, predict_ahead
from ventanilla.workers.helpers import ignore_interrupts
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
    # The triage model's work on a chunk needs no database: it runs in a second process (a
    # thread on one core) while the chunk before is written, and is used only when every post
    # of its chunk is new. After a chunk with posts already stored (a re-import), no more.
    ahead = inline and get_settings().triage_on_ingest
    executor = _ahead_executor() if ahead else None

    def predict(batch: list[IncomingPost]) -> Future[Prediction | None] | None:
        nonlocal ahead
        if executor is None or not ahead:
            return None
        try:
            return executor.submit(predict_ahead, workspace_id, [p.text for p in batch])
        except (RuntimeError, OSError):  # the helper died (BrokenProcessPool) or cannot start: label here
            ahead = False
            return None

    def flush(batch: list[IncomingPost], predicted: Future[Prediction | None] | None) -> None:
        nonlocal ahead
        prediction = None
        if predicted is not None:
            try:
                prediction = predicted.result()
            except Exception:  # labelled the ordinary way instead, with the same errors
                prediction = None
        with session_scope(engine) as session:
            from ventanilla.ingest.models import Channel

            ch = session.get(Channel, channel_id)
            assert ch is not None
            result = accept(session, channel=ch, posts=batch, process=inline, predicted=prediction)
        summary.new += len(result.new_post_ids)
        summary.duplicate += result.duplicates
        if len(result.new_post_ids) != len(batch):
            ahead = False
        if not result.processed:
            hand_over(result.new_post_ids)
        if progress:
            progress(len(batch))

    # Crisis scans asked for by each commit run in a second process meanwhile (`scans_behind`).
    # One chunk is held back until the next one is read, so that its successor's prediction
    # starts before it is written; chunks are still written whole and in order.
    held: tuple[list[IncomingPost], Future[Prediction | None] | None] | None = None

    def flush_held() -> None:
        nonlocal held
        if held is not None:
            posts, predicted = held
            held = None
            flush(posts, predicted)

    def hold(batch: list[IncomingPost]) -> None:
        nonlocal held
        predicted = predict(batch)
        flush_held()
        held = (batch, predicted)

    batch: list[IncomingPost] = []
    try:
        with fewer_collections(), scans_behind([workspace_id]):
            try:
                for item in items:
                    if isinstance(item, Rejection):
                        rejections.append(item)
                        if progress:
                            progress(1)
                        continue
                    batch.append(item.post)
                    if len(batch) >= chunk:
                        hold(batch)
                        batch = []
                if batch:
                    hold(batch)
            finally:
                # Whatever happens while reading, the whole chunks read so far are stored, as
                # when each chunk was written as soon as it was read.
                flush_held()
    finally:
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
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


def _ahead_executor() -> Executor:
    """Where the next chunk is triaged: a forked process when there is a second core (the
    model's Python work then stops competing with the writes for this process's lock), else
    a thread (it still runs while this one waits on the database)."""
    if (os.cpu_count() or 1) >= 2:
        try:
            return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                                       initializer=ignore_interrupts)
        except (OSError, ValueError):  # no fork on this platform, or no process to be had
            pass
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-ahead")


def count_lines(path: Path) -> int:
    """A cheap estimate of the work (progress bar total)."""
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)
