"""evaluate() on a small CSV of our own with a malformed row and non-UTF-8 bytes."""

from __future__ import annotations

from pathlib import Path

from ventanilla.triage.evaluation import evaluate, score_task
from ventanilla.triage.model import Triager

CSV = (
    "id,lang,text,sentiment,reason,complaint,offensive\n"
    "1,es,\"@AeroSol me habéis perdido la maleta, tres días sin noticias\",negative,"
    "Lost Luggage,yes,no\n"
    "2,en,\"@FlyNow thanks, great crew and an early landing!\",positive,,no,no\n"
    "3,en,\"@FlyNow flight delayed 4 hours, missed my connection\",negative,Late Flight,yes,no\n"
    "4,es,¿A qué hora abre el mostrador?,neutral,,no,no\n"
    "5,en,too,many,columns,here,x,y,z,w\n"
    "6,en,too few\n"
    "7,es,\"caf\xe9 con le\xf1a <b>html</b> &amp; entidades\",neutral,,no,no\n"
    "8,en,,neutral,,no,no\n"
    "9,en,\"an unterminated quote at the end,neutral,,no,no\n"
)


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    path.write_bytes(CSV.encode("latin-1"))
    return path


def test_evaluate_returns_the_documented_shape(tmp_path: Path, triager: Triager) -> None:
    result = evaluate(_write(tmp_path), triager)
    assert set(result) >= {"tasks", "rows", "posts_per_second", "skipped_rows"}
    assert result["skipped_rows"] == 3
    assert result["rows"] == 6
    tasks = result["tasks"]
    assert isinstance(tasks, dict)
    assert set(tasks) == {"sentiment", "reason", "complaint", "offensive", "language"}
    for rep in tasks.values():
        assert set(rep) >= {"macro_f1", "accuracy", "per_class", "confusion", "labels"}
        k = len(rep["labels"])
        assert len(rep["confusion"]) == k and all(len(row) == k for row in rep["confusion"])
        for m in rep["per_class"].values():
            assert set(m) == {"precision", "recall", "f1", "support"}
    assert tasks["reason"]["labels"] == ["Late Flight", "Lost Luggage"]
    assert tasks["complaint"]["labels"] == ["no", "yes"]
    assert float(result["posts_per_second"]) > 0


def test_score_task_by_hand() -> None:
    rep = score_task(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    assert rep["confusion"] == [[1, 1], [0, 2]]
    assert rep["accuracy"] == 0.75
    per = rep["per_class"]
    assert isinstance(per, dict)
    assert per["a"]["precision"] == 1.0 and per["a"]["recall"] == 0.5
    assert rep["macro_f1"] == round((2 / 3 + 0.8) / 2, 4)


def test_evaluate_empty_file(tmp_path: Path, triager: Triager) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = evaluate(path, triager)
    assert result["rows"] == 0 and result["tasks"] == {}
