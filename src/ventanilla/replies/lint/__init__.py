"""The tone linter: every outgoing reply checked against the complaint-handling playbook."""

from __future__ import annotations

from pathlib import Path

from ventanilla.replies.lint.finding import BLOCKING_SEVERITIES, RULE_IDS, Finding, Severity
from ventanilla.replies.lint.linter import lint


def train_rudeness_model(csv: str | Path | None = None, out: str | Path | None = None) -> dict[str, object]:
    """Retrain the rudeness classifier on the `train` split of `csv` and write it to `out`.

    Defaults: the shipped labelled set and the shipped model file. scikit-learn is imported
    only here, so linting never loads it.
    """
    from ventanilla.replies.labelled_set import SHIPPED_SET
    from ventanilla.replies.lint import rudeness_training
    from ventanilla.replies.lint.rudeness_model import MODEL_PATH, shipped_model

    summary = rudeness_training.train_rudeness_model(csv or SHIPPED_SET, out or MODEL_PATH)
    shipped_model.cache_clear()
    return summary


__all__ = [
    "BLOCKING_SEVERITIES",
    "RULE_IDS",
    "Finding",
    "Severity",
    "lint",
    "train_rudeness_model",
]
