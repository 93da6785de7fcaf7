"""Shared fixtures for the triage tests: the shipped triager (skip when not trained yet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ventanilla.triage.datasets import shared_data_dir
from ventanilla.triage.model import ARTIFACTS_DIR, Triager, load_triager

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "triage"


@pytest.fixture(scope="session")
def triager() -> Triager:
    """The shipped artefacts, loaded once (cached by load_triager)."""
    if not (ARTIFACTS_DIR / "triage.npz").exists():
        pytest.skip("no trained artefacts: run `ventanilla triage train` first")
    return load_triager()


@pytest.fixture()
def fresh_triager() -> Triager:
    """A private copy of the shipped artefacts, safe to update in place."""
    if not (ARTIFACTS_DIR / "triage.npz").exists():
        pytest.skip("no trained artefacts: run `ventanilla triage train` first")
    return Triager.load(ARTIFACTS_DIR)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder, or skip when it is not available."""
    base = shared_data_dir()
    if not (base / "airline-tweets-en" / "dev.csv").exists():
        pytest.skip(f"shared data not found at {base} (set VENTANILLA_SHARED_DATA)")
    return base
