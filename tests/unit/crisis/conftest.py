"""Shared helpers for the crisis tests: a tiny stand-in for triage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

NEGATIVE_WORDS = ("terrible", "cancelled", "lost", "retraso", "worst", "delayed")


class KeywordLabeller:
    """Labels a text negative when it contains one of a few angry words (tests only)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def label_batch(
        self, texts: Sequence[str], labels: Sequence[str] = ("sentiment", "complaint")
    ) -> Mapping[str, np.ndarray]:
        self.calls.append(tuple(labels))
        negative = [any(w in t.lower() for w in NEGATIVE_WORDS) for t in texts]
        out = {
            "sentiment": np.array(["negative" if n else "neutral" for n in negative]),
            "complaint": np.array(["yes" if n else "no" for n in negative]),
        }
        if "reason" in labels:
            out["reason"] = np.array(["late" if n else "" for n in negative])
        return out


@pytest.fixture
def labeller() -> KeywordLabeller:
    return KeywordLabeller()
