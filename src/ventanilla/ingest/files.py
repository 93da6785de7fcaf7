"""Reading posts from CSV (the shared data's columns, or mapped ones) and JSONL files.

Every line either becomes an `IncomingPost` or a `Rejection` with its line number and reason:
a bad line never stops the good ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ventanilla.ingest.schema import MAX_TEXT_CHARS, IncomingAuthor, IncomingPost, PostKind

# Canonical field -> the column names we recognise for it, in order of preference.
KNOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "external_id", "tweet_id", "post_id"),
    "text": ("text", "body", "message", "content"),
    "created_at": ("created_at", "tweet_created", "date", "timestamp"),
    "author": ("author", "name", "user", "handle", "username"),
    "author_name": ("author_name", "display_name"),
    "followers": ("followers", "followers_count", "user_followers"),
    "verified": ("verified",),
    "lang": ("lang", "language"),
    "url": ("url", "link"),
    "kind": ("kind",),
    "parent_id": ("parent_id", "in_reply_to", "in_reply_to_id"),
    "thread_id": ("thread_id", "conversation_id"),
    "likes": ("likes", "like_count", "favorite_count"),
    "shares": ("shares", "retweet_count", "share_count"),
    "replies": ("replies", "reply_count"),
    "brand": ("brand", "airline"),
}
CANONICAL = tuple(KNOWN_COLUMNS)
# Let oversized fields through the CSV reader so they get our clear "too long" reason.
csv.field_size_limit(64 * 1024 * 1024)


class FileError(ValueError):
    """The whole file cannot be read (empty, no text column, unknown format)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that could not be used, kept for the report."""

    line: int
    reason: str
    content: str


@dataclass(frozen=True, slots=True)
class Parsed:
    line: int
    post: IncomingPost


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["text=body", "id=tweet_id"]`` -> ``{"text": "body", "id": "tweet_id"}``, checked."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        field_name, sep, column = pair.partition("=")
        if not sep or not column:
            raise FileError(f"column mapping {pair!r} is not FIELD=COLUMN")
        if field_name not in CANONICAL:
            raise FileError(f"unknown field {field_name!r} in mapping; fields: {', '.join(CANONICAL)}")
        mapping[field_name] = column
    return mapping


def _parse_time(value: str) -> datetime:
    value = value.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    return max(0, int(float(value)))


def _bool(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "y", "t"}


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        return data.decode(encoding)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    # surrogateescape keeps undecodable bytes visible so each bad row can be rejected alone.
    return data.decode("utf-8-sig", errors="surrogateescape")


_SURROGATE = re.compile("[\udc80-\udcff]")


def _row_to_post(
    values: Mapping[str, str], columns: dict[str, str], *, network: str, kind: PostKind, now: datetime,
) -> IncomingPost:
    def get(name: str) -> str | None:
        column = columns.get(name)
        return values.get(column) if column else None

    text = get("text")
    if text is None or not text.strip():
        raise ValueError("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text is {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}")
    created_raw = get("created_at")
    try:
        created = _parse_time(created_raw) if created_raw and created_raw.strip() else now
    except ValueError as exc:
        raise ValueError(f"created_at {created_raw!r} is not a date and time") from exc
    external_id = (get("id") or "").strip()
    author = (get("author") or "").strip().lstrip("@")
    if not external_id:
        # Stable across re-imports, so a file without ids is still ingested once.
        basis = f"{author}|{created_raw}|{text}".encode()
        external_id = "sha1:" + hashlib.sha1(basis).hexdigest()
    if not author:
        # No author given: each post stands alone rather than merging strangers into one case.
        author = f"anonymous-{external_id[-12:]}"
    kind_raw = (get("kind") or "").strip()
    followers_raw = get("followers")
    mapped = set(columns.values())
    extra = {k: v for k, v in values.items() if k not in mapped and k}
    return IncomingPost(
        network=network,
        external_id=external_id,
        author=IncomingAuthor(
            handle=author[:255],
            display_name=(get("author_name") or None),
            followers=_int(followers_raw) if followers_raw and followers_raw.strip() else None,
            verified=_bool(get("verified")),
        ),
        text=text,
        kind=PostKind(kind_raw) if kind_raw else kind,
        created_at=created,
        language=(get("lang") or "").strip() or None,
        url=(get("url") or "").strip() or None,
        parent_external_id=(get("parent_id") or "").strip() or None,
        thread_external_id=(get("thread_id") or "").strip() or None,
        likes=_int(get("likes")),
        shares=_int(get("shares")),
        replies=_int(get("replies")),
        brand=(get("brand") or "").strip() or None,
        raw=extra,
    )


def _validation_reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"


def read_csv(
    data: bytes, *, mapping: dict[str, str] | None = None, network: str = "x",
    kind: PostKind = PostKind.mention, encoding: str | None = None,
) -> tuple[list[str], Iterator[Parsed | Rejection]]:
    """Parse CSV bytes. Returns (unknown column names, a stream of posts and rejections)."""
    if not data.strip():
        raise FileError("the file is empty")
    try:
        text = _decode(data, encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise FileError(f"cannot decode the file as {encoding}: {exc}") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise FileError(f"cannot read the CSV header: {exc}") from exc
    if _SURROGATE.search(",".join(header)):
        raise FileError("the header is not valid UTF-8; pass --encoding (e.g. latin-1)")
    lowered = {h.lower(): h for h in header}
    columns: dict[str, str] = {}
    for name, candidates in KNOWN_COLUMNS.items():
        for candidate in candidates:
            if candidate in lowered:
                columns[name] = lowered[candidate]
                break
    for name, column in (mapping or {}).items():
        if column not in header:
            raise FileError(f"mapped column {column!r} is not in the file; columns: {', '.join(header)}")
        columns[name] = column
    if "text" not in columns:
        raise FileError(f"no text column; map one with --map text=COLUMN (columns: {', '.join(header)})")
    known = set(columns.values())
    unknown = [h for h in header if h not in known]
    now = datetime.now(UTC)

    def rows() -> Iterator[Parsed | Rejection]:
        line = reader.line_num + 1
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejection(start, f"malformed CSV: {exc}", "")
                continue
            line = start
            raw_line = ",".join(values)
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield Rejection(line, f"expected {len(header)} fields, found {len(values)}", raw_line[:2000])
                continue
            if _SURROGATE.search(raw_line):
                yield Rejection(line, "not valid UTF-8 (pass --encoding if the file uses another)",
                                raw_line.encode("utf-8", "surrogateescape").decode("latin-1")[:2000])
                continue
            try:
                post = _row_to_post(dict(zip(header, values, strict=True)), columns,
                                    network=network, kind=kind, now=now)
            except ValidationError as exc:
                yield Rejection(line, _validation_reason(exc), raw_line[:2000])
                continue
            except ValueError as exc:
                yield Rejection(line, str(exc), raw_line[:2000])
                continue
            yield Parsed(line, post)

    return unknown, rows()


def read_jsonl(data: bytes, *, network: str | None = None) -> Iterator[Parsed | Rejection]:
    """Parse JSON Lines in the native schema (one `IncomingPost` object per line)."""
    if not data.strip():
        raise FileError("the file is empty")
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line_text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield Rejection(number, f"not valid UTF-8: {exc.reason} at byte {exc.start}", "")
            continue
        try:
            obj: Any = json.loads(line_text)
        except json.JSONDecodeError as exc:
            yield Rejection(number, f"not JSON: {exc.msg} at column {exc.colno}", line_text[:2000])
            continue
        if not isinstance(obj, dict):
            yield Rejection(number, "each line must be a JSON object", line_text[:2000])
            continue
        obj.pop("channel", None)
        if network and "network" not in obj:
            obj["network"] = network
        obj.setdefault("raw", {})
        try:
            yield Parsed(number, IncomingPost.model_validate(obj))
        except ValidationError as exc:
            yield Rejection(number, _validation_reason(exc), line_text[:2000])


def sniff_format(path: Path) -> str:
    """'csv' or 'jsonl' from the file name."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return "jsonl"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    raise FileError(f"cannot tell the format of {path.name}; use .csv or .jsonl")
