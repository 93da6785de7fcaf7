"""Per-rule precision and recall of the tone linter on a labelled CSV.

A rule counts as predicted for a reply when `lint` returns at least one finding of that rule with
severity medium or high; low findings are hints and do not count. Overall figures are micro
averages over all (reply, rule) pairs.
"""

from __future__ import annotations

import time
from pathlib import Path

from ventanilla.replies.labelled_set import LabelledReply, read_labelled_set
from ventanilla.replies.lint.finding import RULE_IDS
from ventanilla.replies.lint.linter import lint


def predicted_rules(reply: LabelledReply) -> set[str]:
    """The rules `lint` objects to (medium/high findings) for one labelled reply."""
    findings = lint(
        reply.text,
        customer_lang=reply.customer_lang,
        public=reply.public,
        network=reply.network,
        first_reply=reply.first_reply,
        is_complaint=reply.is_complaint,
    )
    return {f.rule for f in findings if f.blocking}


def _ratio(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def evaluate(csv_path: str | Path, split: str | None = None) -> dict[str, object]:
    """Precision, recall, F1 and support per rule (and overall) for the replies in `csv_path`.

    `split` keeps only rows of that split ("test" for the honest figures). The result also lists
    the replies the linter got wrong, so a reviewer can read them.
    """
    replies = read_labelled_set(csv_path, split=split)
    counts = {rule: {"tp": 0, "fp": 0, "fn": 0} for rule in RULE_IDS}
    errors: list[dict[str, object]] = []
    good_with_findings = 0
    good = 0
    started = time.perf_counter()
    for reply in replies:
        predicted = predicted_rules(reply)
        expected = set(reply.rules) & set(RULE_IDS)
        if not expected:
            good += 1
            good_with_findings += bool(predicted)
        for rule in RULE_IDS:
            if rule in predicted and rule in expected:
                counts[rule]["tp"] += 1
            elif rule in predicted:
                counts[rule]["fp"] += 1
            elif rule in expected:
                counts[rule]["fn"] += 1
        if predicted != expected:
            errors.append(
                {
                    "id": reply.id,
                    "missed": sorted(expected - predicted),
                    "extra": sorted(predicted - expected),
                    "text": reply.text,
                }
            )
    elapsed = time.perf_counter() - started
    rules: dict[str, dict[str, float | int]] = {}
    for rule, c in counts.items():
        precision = _ratio(c["tp"], c["tp"] + c["fp"])
        recall = _ratio(c["tp"], c["tp"] + c["fn"])
        f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
        rules[rule] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": c["tp"] + c["fn"],
            "predicted": c["tp"] + c["fp"],
        }
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    return {
        "replies": len(replies),
        "split": split or "all",
        "rules": rules,
        "overall": {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "support": tp + fn,
            "good_replies": good,
            "good_replies_flagged": good_with_findings,
        },
        "replies_per_second": round(len(replies) / elapsed, 1) if elapsed else 0.0,
        "errors": errors,
    }
