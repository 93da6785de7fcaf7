"""Online updates move a prediction; save/load round-trips the weights."""

from __future__ import annotations

import time
from pathlib import Path

from ventanilla.triage.model import ARTIFACTS_DIR, Triager, load_triager, timed_load


def test_online_update_changes_prediction(fresh_triager: Triager) -> None:
    text = "el zumbido del frigorífico de la planta cuatro sigue igual"
    before = fresh_triager.predict([text])[0].complaint
    target = "no" if before.value == "yes" else "yes"
    version = fresh_triager.version
    for _ in range(30):
        fresh_triager.update("complaint", [text], [target])
        if fresh_triager.predict([text])[0].complaint.value == target:
            break
    assert fresh_triager.predict([text])[0].complaint.value == target
    assert fresh_triager.version != version and "+u" in fresh_triager.version


def test_update_sentiment_routes_by_language(fresh_triager: Triager) -> None:
    text = "pues el avión era amarillo"
    for _ in range(40):
        fresh_triager.update("sentiment", [text], ["positive"])
    assert fresh_triager.predict([text])[0].sentiment.value == "positive"


def test_save_and_load_round_trip(fresh_triager: Triager, tmp_path: Path) -> None:
    fresh_triager.update("offensive", ["qué día tan tranquilo"], ["no"])
    fresh_triager.save(tmp_path)
    again = Triager.load(tmp_path)
    texts = ["@AeroSol sin maleta otra vez", "gracias por todo"]
    assert again.version == fresh_triager.version
    a = again.label_batch(texts, ("sentiment", "complaint", "offensive"))
    b = fresh_triager.label_batch(texts, ("sentiment", "complaint", "offensive"))
    for key in a:
        assert list(a[key]) == list(b[key])


def test_shipped_artefacts_load(triager: Triager) -> None:
    assert triager.version.startswith("triage-")
    assert load_triager() is load_triager()
    size = sum(p.stat().st_size for p in ARTIFACTS_DIR.iterdir() if p.is_file())
    assert size < 25 * 1024 * 1024
    start = time.perf_counter()
    fresh, seconds = timed_load()
    assert seconds <= time.perf_counter() - start + 1e-6
    assert fresh.version == triager.version


def test_update_accepts_original_reason_names(fresh_triager: Triager) -> None:
    import pytest

    fresh_triager.update("reason", ["la maleta llegó con el asa rota"], ["Damaged Luggage"])
    with pytest.raises(ValueError):
        fresh_triager.update("sentiment_en", ["x"], ["furious"])
    with pytest.raises(ValueError):
        fresh_triager.update("colour", ["x"], ["red"])
