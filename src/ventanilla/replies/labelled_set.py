"""The labelled replies shipped with ventanilla, read from CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

SHIPPED_SET = Path(__file__).parent / "data" / "replies_labelled.csv"
REQUIRED_COLUMNS = ("lang", "customer_lang", "public", "network", "first_reply", "text", "rules")


class LabelledSetError(ValueError):
    """The CSV is not a labelled-replies file we can read."""


@dataclass(frozen=True, slots=True)
class LabelledReply:
    """One reply with the rules a careful reviewer says it breaks (empty: a good reply)."""

    id: str
    lang: str
    customer_lang: str
    public: bool
    network: str | None
    first_reply: bool
    is_complaint: bool
    text: str
    rules: frozenset[str]
    split: str


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "y", "si", "sí")


def read_labelled_set(path: str | Path = SHIPPED_SET, split: str | None = None) -> list[LabelledReply]:
    """Read a labelled CSV; with `split`, keep only rows of that split ("train" or "test")."""
    path = Path(path)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise LabelledSetError(f"cannot open {path}: {error.strerror}") from error
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LabelledSetError(f"{path}: missing column(s): {', '.join(missing)}")
        rows: list[LabelledReply] = []
        for number, row in enumerate(reader, start=2):
            row_split = (row.get("split") or "").strip()
            if split is not None and row_split != split:
                continue
            text = row.get("text")
            if text is None:
                raise LabelledSetError(f"{path}:{number}: row has too few fields")
            rules = frozenset(r.strip() for r in (row.get("rules") or "").split(";") if r.strip())
            rows.append(
                LabelledReply(
                    id=(row.get("id") or f"row{number}").strip(),
                    lang=(row.get("lang") or "").strip(),
                    customer_lang=(row.get("customer_lang") or row.get("lang") or "").strip(),
                    public=_flag(row.get("public"), True),
                    network=(row.get("network") or "").strip() or None,
                    first_reply=_flag(row.get("first_reply"), True),
                    is_complaint=_flag(row.get("is_complaint"), True),
                    text=text,
                    rules=rules,
                    split=row_split,
                )
            )
    return rows
