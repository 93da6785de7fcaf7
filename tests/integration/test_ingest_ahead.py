"""Ingest in this process predicts the next chunk's triage while a chunk is written: the labels
are those of the ordinary path, and a prediction is used only for a chunk whose posts are all new."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Desk
from ventanilla.db import session_scope
from ventanilla.ingest import importer
from ventanilla.ingest.models import Post, join_labels
from ventanilla.triage import service as triage

HEADER = "id,created_at,lang,text,sentiment,brand,author,retweet_count\n"
TEXTS = ["Mi vuelo lleva 3 horas de retraso", "Thanks for the quick help!", "Lost my bag again - awful",
         "¿Alguien sabe si hay huelga mañana?", "Cancelled flight and no refund. Calling my lawyer",
         "Great crew on the flight to Madrid", "Where is my refund??", "Worst airline ever"]


def write_csv(path: Path, ids: range) -> Path:
    path.write_text(HEADER + "".join(
        f"{i},2026-11-20T17:{i % 60:02d}:00Z,en,{TEXTS[i % len(TEXTS)]} #{i},,Brisa,user{i % 5},{i % 3}\n"
        for i in ids))
    return path


def labels(engine) -> dict[str, object]:
    with session_scope(engine) as s:
        return {r.external_id: (join_labels(r.labels, r.label_details), r.language, r.case_id)
                for r in s.execute(select(Post.external_id, Post.labels, Post.label_details, Post.language,
                                          Post.case_id))}


class Predictions:
    """Each time the model predicts: where ("ahead": the importer's second process or thread;
    "here": the importing thread) and how many texts. Kept in a file: the process is forked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_text("")

    def __call__(self) -> list[tuple[str, int]]:
        return [(where, int(n)) for where, n in (line.split(",") for line in self.path.read_text().splitlines())]

    def clear(self) -> None:
        self.path.write_text("")


@pytest.fixture
def predicted_in(monkeypatch, tmp_path: Path) -> Predictions:
    from ventanilla.triage.model import Triager

    made = Predictions(tmp_path / "predictions.txt")
    real = Triager.predict_batch
    parent = os.getpid()

    def predict_batch(self: Triager, texts):  # type: ignore[no-untyped-def]
        here = os.getpid() == parent and threading.current_thread() is threading.main_thread()
        with made.path.open("a") as handle:
            handle.write(f"{'here' if here else 'ahead'},{len(texts)}\n")
        return real(self, texts)

    monkeypatch.setattr(Triager, "predict_batch", predict_batch)
    return made


def test_labels_are_those_of_the_ordinary_path(tmp_path: Path, engine, desk: Desk, predicted_in) -> None:
    path = write_csv(tmp_path / "a.csv", range(1, 26))
    summary = importer.import_file(path, workspace_id=desk.workspace_id, channel_slug="x-brisa", chunk=10)
    assert summary.new == 25
    assert predicted_in() == [("ahead", 10), ("ahead", 10), ("ahead", 5)]
    stored = labels(engine)
    model = triage._triager(desk.workspace_id)
    for start in range(1, 26, 10):
        ids = range(start, min(start + 10, 26))
        plain = model.predict_batch([f"{TEXTS[i % len(TEXTS)]} #{i}" for i in ids])
        for n, i in enumerate(ids):
            got, _language, case_id = stored[str(i)]
            assert case_id is not None
            for name in ("language", "complaint", "sentiment", "reason", "offensive", "intent"):
                assert got[name] == plain.values[name][n]
                details = got["details"][name]
                assert (details and details["evidence"]) == (plain.evidence[name][n] if details else None)


def test_a_chunk_with_stored_posts_is_labelled_the_ordinary_way_and_ends_the_lookahead(
        tmp_path: Path, engine, desk: Desk, predicted_in) -> None:
    importer.import_file(write_csv(tmp_path / "a.csv", range(1, 6)), workspace_id=desk.workspace_id,
                         channel_slug="x-brisa", chunk=10)
    predicted_in.clear()
    # chunks: posts 1-10 (1-5 stored already), 11-20, 21-25
    summary = importer.import_file(write_csv(tmp_path / "b.csv", range(1, 26)), workspace_id=desk.workspace_id,
                                   channel_slug="x-brisa", chunk=10)
    assert (summary.new, summary.duplicate) == (20, 5)
    # The first two chunks were predicted ahead; the first, with stored posts, is labelled again
    # (its new posts only) and stops the lookahead, so the last is labelled the ordinary way.
    assert sorted(predicted_in()) == [("ahead", 10), ("ahead", 10), ("here", 5), ("here", 5)]
    assert len(labels(engine)) == 25


def test_a_prediction_for_another_model_version_is_not_used(tmp_path: Path, engine, desk: Desk,
                                                            predicted_in, monkeypatch) -> None:
    # The workspace's model changed while the next chunk was predicted (e.g. corrections learnt).
    real = triage.predict_ahead

    def stale(workspace_id: int, texts: list[str]) -> triage.Prediction | None:
        found = real(workspace_id, texts)
        return None if found is None else triage.Prediction("older-model", found.texts, found.batch)

    monkeypatch.setattr(importer, "predict_ahead", stale)
    monkeypatch.setattr(importer.os, "cpu_count", lambda: 1)  # a thread: the stand-in need not pickle
    summary = importer.import_file(write_csv(tmp_path / "a.csv", range(1, 13)), workspace_id=desk.workspace_id,
                                   channel_slug="x-brisa", chunk=10)
    assert summary.new == 12
    assert sorted(predicted_in()) == [("ahead", 2), ("ahead", 10), ("here", 2), ("here", 10)]


@pytest.mark.parametrize(("cores", "kind"), [(2, "ProcessPoolExecutor"), (1, "ThreadPoolExecutor")])
def test_the_next_chunk_is_predicted_in_a_process_when_there_is_a_second_core(monkeypatch, cores: int,
                                                                             kind: str) -> None:
    monkeypatch.setattr(importer.os, "cpu_count", lambda: cores)
    executor = importer._ahead_executor()
    try:
        assert type(executor).__name__ == kind
        assert executor.submit(len, "ventanilla").result() == 10
    finally:
        executor.shutdown()


def _helper_dies(workspace_id: int, texts: list[str]) -> triage.Prediction | None:
    os._exit(5)  # runs in the helper process: it dies mid-import


def test_a_helper_process_that_dies_costs_no_label(tmp_path: Path, engine, desk: Desk, monkeypatch) -> None:
    monkeypatch.setattr(importer.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(importer, "predict_ahead", _helper_dies)
    summary = importer.import_file(write_csv(tmp_path / "a.csv", range(1, 26)), workspace_id=desk.workspace_id,
                                   channel_slug="x-brisa", chunk=10)
    assert summary.new == 25
    stored = labels(engine)
    assert len(stored) == 25
    assert all(got is not None and got["sentiment"] and case_id is not None for got, _l, case_id in stored.values())
