"""`audit verify`: walk the whole chain and name the first event that does not hold.

The walk reads each event as the exact text its hash covers (``prev_hash`` followed by the
event's canonical JSON, see `chain.EVENT_TEMPLATE`), assembled by the database from the stored
columns: strings JSON-quoted, numbers as digits or ``null``, created_at as UTC ISO time to the
second, and ``before``/``after`` as stored. Since revision 0011 the documents are stored as
canonical JSON text, so this is the hashed text itself, and the verifier only hashes it: no
JSON parsing, no datetime handling, no ORM objects per event. Python computes every hash.

The text is only assembled for a "plain" event, one whose stored values have the types and forms
the application reads back unchanged (on SQLite, which does not enforce column types: integers,
texts, valid JSON documents, created_at in the format the application writes). Any event that is
not plain or whose text does not hash to its stored hash is checked again, first from its
parsed documents (events written before 0011 store them in another JSON form), then exactly as
the application reads it through the ORM (`chain.canonical`), and reported only if that fails.
So the walk accepts an event only when the hashed bytes are rebuilt from what the application
would read: nothing is covered less than before.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.audit.chain import GENESIS, canonical_json, hashed_fields, link_hash
from ventanilla.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain: ``broken_id`` is the first event that does not hold."""

    checked: int
    broken_id: int | None = None
    reason: str = ""
    rechecked: int = 0
    """How many events were not stored in canonical form and had to be parsed to be checked."""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


@dataclass(frozen=True)
class _Dialect:
    quote: str  # a string column as a JSON string literal
    number: str  # an integer column as its digits, or null
    document: str  # a JSON column's stored text, or null
    created: str  # created_at as hashed: 2026-11-20T17:05:00+00:00
    plain: str  # the row's stored values read back unchanged (see the module's doc)
    param: str
    concat: bool = False  # join with concat() rather than ||


_DIGITS = "[0-9]"
_SQLITE_STORED_TIME = (  # how SQLAlchemy stores a datetime in SQLite: 2026-11-20 17:05:00.000000
    f"{_DIGITS * 4}-{_DIGITS * 2}-{_DIGITS * 2} {_DIGITS * 2}:{_DIGITS * 2}:{_DIGITS * 2}.{_DIGITS * 6}"
)
_DIALECTS = {
    "sqlite": _Dialect(
        quote="json_quote({})",
        number="coalesce(CAST({} AS TEXT), 'null')",
        document="coalesce(\"{}\", 'null')",
        created="substr(created_at, 1, 10) || 'T' || substr(created_at, 12, 8) || '+00:00'",
        plain=(
            "typeof(workspace_id) IN ('integer', 'null') AND typeof(actor_user_id) IN ('integer', 'null')"
            " AND typeof(actor) = 'text' AND typeof(action) = 'text' AND typeof(target_type) = 'text'"
            " AND typeof(target_id) = 'text' AND typeof(\"after\") IN ('text', 'null')"
            " AND typeof(\"before\") IN ('text', 'null') AND json_valid(coalesce(\"after\", 'null'))"
            " AND json_valid(coalesce(\"before\", 'null')) AND typeof(created_at) = 'text'"
            f" AND created_at GLOB '{_SQLITE_STORED_TIME}'"
        ),
        param="?",
    ),
    # PostgreSQL enforces the column types and keeps `json` text as given.
    "postgresql": _Dialect(
        quote="to_json({})::text",
        number="coalesce({}::text, 'null')",
        document="coalesce(\"{}\"::text, 'null')",
        created="to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')",
        plain="created_at >= TIMESTAMPTZ '0001-01-01 00:00:00+00' AND created_at < TIMESTAMPTZ 'infinity'",
        param="%s",
        concat=True,
    ),
}


def _joined(d: _Dialect, pieces: list[str]) -> str:
    # PostgreSQL's concat() builds the text in one go (|| copies it once per piece). It skips
    # NULLs, which the pieces never are for a plain event; and leaving a value out could never
    # rebuild the hashed text, which has a value after every key.
    return f"concat({', '.join(pieces)})" if d.concat else " || ".join(pieces)


def _parts(d: _Dialect) -> tuple[list[str], str, str, list[str]]:
    """SQL for the hashed text around the documents: (head pieces, after, before, tail pieces)."""
    head = ["prev_hash", "'{\"action\":'", d.quote.format("action"), "',\"actor\":'", d.quote.format("actor"),
            "',\"actor_user_id\":'", d.number.format("actor_user_id"), "',\"after\":'"]
    tail = ["',\"created_at\":\"'", d.created, "'\",\"target_id\":'", d.quote.format("target_id"),
            "',\"target_type\":'", d.quote.format("target_type"), "',\"workspace_id\":'",
            d.number.format("workspace_id"), "'}'"]
    return head, d.document.format("after"), d.document.format("before"), tail


def _walk_sql(d: _Dialect) -> str:
    head, after, before, tail = _parts(d)
    text = _joined(d, [*head, after, "',\"before\":'", before, *tail])
    return (f"SELECT id, prev_hash, hash, CASE WHEN {d.plain} THEN {text} END FROM audit_event "
            f"WHERE id > {d.param} ORDER BY id LIMIT {d.param}")


def _parts_sql(d: _Dialect, count: int) -> str:
    head, after, before, tail = _parts(d)
    return (f"SELECT id, hash, CASE WHEN {d.plain} THEN {_joined(d, head)} END, {after}, {before}, "
            f"CASE WHEN {d.plain} THEN {_joined(d, tail)} END FROM audit_event "
            f"WHERE id IN ({', '.join([d.param] * count)})")


_HEAD_SQL = "SELECT hash FROM audit_head WHERE id = 1"
_CHUNK = 500


def _still_broken(session: Session, cursor: Any, d: _Dialect, ids: list[int]) -> set[int]:
    """Among ``ids`` (events whose stored text did not hash right), those that really do not hold."""
    suspects: list[int] = []
    for begin in range(0, len(ids), _CHUNK):
        chunk = ids[begin:begin + _CHUNK]
        cursor.execute(_parts_sql(d, len(chunk)), chunk)
        found = set()
        for event_id, digest, head, after, before, tail in cursor.fetchall():
            found.add(event_id)
            if head is not None and tail is not None:
                # Documents stored in another JSON form (before revision 0011): canonicalise them.
                try:
                    text = (head + canonical_json(json.loads(after)) + ',"before":'
                            + canonical_json(json.loads(before)) + tail)
                    if hashlib.sha256(text.encode()).hexdigest() == digest:
                        continue
                except (TypeError, ValueError):
                    pass
            suspects.append(event_id)
        suspects.extend(set(chunk) - found)
    # What is left is judged exactly as the application reads it back.
    broken: set[int] = set()
    for begin in range(0, len(suspects), _CHUNK):
        chunk = suspects[begin:begin + _CHUNK]
        broken.update(set(chunk) - _read_back_and_holding(session, chunk))
    return broken


_ORM_COLUMNS = (
    AuditEvent.id, AuditEvent.workspace_id, AuditEvent.actor_user_id, AuditEvent.actor,
    AuditEvent.action, AuditEvent.target_type, AuditEvent.target_id, AuditEvent.before,
    AuditEvent.after, AuditEvent.created_at, AuditEvent.prev_hash, AuditEvent.hash,
)


def _read_back_and_holding(session: Session, ids: list[int]) -> set[int]:
    """Those of ``ids`` whose hash holds over the values the application reads (`chain.canonical`)."""
    try:
        rows = session.execute(select(*_ORM_COLUMNS).where(AuditEvent.id.in_(ids))).all()
    except (TypeError, ValueError, OverflowError):
        # A value the application cannot read back (say, a document that is no JSON) is not
        # what was hashed; find which event has it.
        if len(ids) == 1:
            return set()
        return set().union(*(_read_back_and_holding(session, [one]) for one in ids))
    holding = set()
    for row in rows:
        try:
            fields = hashed_fields(
                workspace_id=row.workspace_id, actor_user_id=row.actor_user_id, actor=row.actor,
                action=row.action, target_type=row.target_type, target_id=row.target_id,
                before=row.before, after=row.after, created_at=row.created_at,
            )
            if link_hash(row.prev_hash, fields) == row.hash:
                holding.add(row.id)
        except (AttributeError, TypeError, ValueError):
            pass
    return holding


def _fast_pass(rows: list[Any], prev: str, checked: int) -> tuple[list[int], VerifyResult | None]:
    """Hash ``rows`` (which follow the event hashed ``prev``) from their stored text: the events
    whose text did not hash right, and the first broken link if any (nothing after it is read)."""
    sha256 = hashlib.sha256
    slow: list[int] = []
    for index, (event_id, link, digest, text) in enumerate(rows):
        if link != prev:
            return slow, VerifyResult(checked + index, event_id, "its previous-hash link does not match")
        if text is None or sha256(text.encode()).hexdigest() != digest:
            slow.append(event_id)
        prev = digest
    return slow, None


def _past_the_head(cursor: Any, d: _Dialect, head: str, checked: int, last_id: int,
                   rechecked: int) -> VerifyResult:
    """The chain holds up to event ``last_id`` but does not end at the recorded ``head``."""
    cursor.execute(f"SELECT id FROM audit_event WHERE hash = {d.param} AND id < {d.param}", (head, last_id))
    found = cursor.fetchone()
    if found is None:
        return VerifyResult(checked, last_id, "events after this one were removed", rechecked)
    cursor.execute(f"SELECT min(id) FROM audit_event WHERE id > {d.param}", (found[0],))
    first = cursor.fetchone()[0]
    cursor.execute(f"SELECT count(*) FROM audit_event WHERE id < {d.param}", (first,))
    return VerifyResult(cursor.fetchone()[0], first, "it was added after the chain's recorded last event",
                        rechecked)


def verify(session: Session, *, batch: int = 50_000) -> VerifyResult:
    """Walk the whole chain and report the first event whose link or content was altered.

    Reads through the session's own connection and transaction, ``batch`` events at a time; the
    database assembles the next page while this one is hashed.
    """
    session.flush()
    connection = session.connection()
    d = _DIALECTS[connection.dialect.name]
    walk = _walk_sql(d)
    dbapi = cast(Any, connection.connection.dbapi_connection)
    pager, cursor = dbapi.cursor(), dbapi.cursor()

    def page(after_id: int, limit: int) -> list[Any]:
        pager.execute(walk, (after_id, limit))
        return cast(list[Any], pager.fetchall())

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-verify") as pool:
            prev, checked, last_id, rechecked = GENESIS, 0, 0, 0
            upcoming = pool.submit(page, 0, batch)
            while True:
                rows = upcoming.result()
                if rows:
                    # Only this thread or the pager uses the connection at any one time.
                    upcoming = pool.submit(page, rows[-1][0], batch)
                    slow, broken_link = _fast_pass(rows, prev, checked)
                    if slow:
                        wait([upcoming])
                        broken = _still_broken(session, cursor, d, slow)
                        for index, row in enumerate(rows):
                            if row[0] in broken:
                                return VerifyResult(checked + index, row[0], "its content does not match its hash")
                    if broken_link is not None:
                        return broken_link
                    prev, last_id = rows[-1][2], rows[-1][0]
                    checked, rechecked = checked + len(rows), rechecked + len(slow)
                    continue
                # The head is written in the same transaction as the events it points at. If it is
                # past the last event read, writers appended more since (walk on) unless there is
                # nothing more: then events after the last one were removed.
                cursor.execute(_HEAD_SQL)
                head = cursor.fetchone()
                if head is None or head[0] == prev:
                    return VerifyResult(checked, rechecked=rechecked)
                upcoming = pool.submit(page, last_id, batch)
                if not upcoming.result():
                    return _past_the_head(cursor, d, head[0], checked, last_id, rechecked)
    finally:
        pager.close()
        cursor.close()
