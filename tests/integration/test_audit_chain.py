"""The audit chain: what its hash covers, how it is stored, and that `verify` finds every kind of
tampering (changed field, removed, inserted, reordered event) and names the event, on both engines.

Tampering goes around the guards, as an attacker with database access would: the append-only
triggers are dropped (SQLite, each test has its own copy) or disabled for the statement
(PostgreSQL, shared database).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text

from tests.conftest import Desk
from ventanilla.audit.chain import canonical, canonical_json, event_text, hashed_fields, link_hash
from ventanilla.audit.models import AuditEvent, AuditHead
from ventanilla.audit.service import Actor, EventDraft, record_many, verify
from ventanilla.db import session_scope

TRICKY_STRINGS = [
    "",
    "plain",
    'quote " and \\ backslash',
    "controls \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f and \x7f",
    "ñandú, € and 𝄞",
    "\u2028\u2029 </script>",
]
TRICKY_DOCUMENTS: list[Any] = [
    None,
    {},
    {"status": "open"},
    {"b": 1, "a": [1, -2.5, None, True, False, "x"], "ü": {"z": 1e100, "a": {"m": "\n\"\\"}}},
    {"10": "ten", "9": "nine", "": "empty", "note": "Pedido el localizador por DM 🙏"},
    {"big": 12345678901234567890, "small": 1.5e-7, "list": [[], {}, [{"k": "v"}]]},
]


def test_event_text_is_exactly_the_canonical_json_that_was_always_hashed() -> None:
    created = datetime(2026, 11, 20, 17, 5, 9, 123456, tzinfo=UTC)
    cases = 0
    for string in [*TRICKY_STRINGS, "NUL \x00 (SQLite only)"]:
        for before, after in zip(TRICKY_DOCUMENTS, reversed(TRICKY_DOCUMENTS), strict=True):
            for ids in ((None, None), (7, 12345)):
                fields = hashed_fields(workspace_id=ids[0], actor_user_id=ids[1], actor=string, action=string + "a",
                                       target_type="case" + string, target_id=string + "42", before=before,
                                       after=after, created_at=created)
                fast = event_text(workspace_id=ids[0], actor_user_id=ids[1], actor=string, action=string + "a",
                                  target_type="case" + string, target_id=string + "42",
                                  before_json=canonical_json(before), after_json=canonical_json(after),
                                  created_at="2026-11-20T17:05:09+00:00")
                assert fast.encode() == canonical(fields)
                cases += 1
    assert cases == (len(TRICKY_STRINGS) + 1) * len(TRICKY_DOCUMENTS) * 2


# --- helpers ------------------------------------------------------------------------------------


def write_events(engine: Engine, desk: Desk, count: int = 12) -> list[int]:
    """``count`` events with awkward strings and documents, in three transactions; their ids."""
    actor = Actor(f"agent {TRICKY_STRINGS[3]}@brisa.test", desk.users["agent"])
    drafts = [
        EventDraft(f"case.{TRICKY_STRINGS[i % len(TRICKY_STRINGS)]}", "case", f"{i} {TRICKY_STRINGS[-i % 6]}",
                   desk.workspace_id if i % 2 else None, TRICKY_DOCUMENTS[i % len(TRICKY_DOCUMENTS)],
                   TRICKY_DOCUMENTS[(i + 1) % len(TRICKY_DOCUMENTS)])
        for i in range(count)
    ]
    for part in (drafts[: count // 3], drafts[count // 3: 2 * count // 3], drafts[2 * count // 3:]):
        with session_scope(engine) as s:
            record_many(s, actor, part)
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))[-count:]


def all_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def tamper(engine: Engine, *statements: tuple[str, dict[str, Any]]) -> None:
    """Run ``statements`` on the audit table with its append-only trigger out of the way."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_event_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        for sql, params in statements:
            conn.execute(text(sql), params)
        if engine.dialect.name != "sqlite":
            conn.execute(text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only"))


def checked(engine: Engine, **kwargs: Any):
    with session_scope(engine) as s:
        return verify(s, **kwargs)


def raw_documents(conn: Connection, event_id: int) -> tuple[str | None, str | None]:
    cast = "::text" if conn.dialect.name == "postgresql" else ""
    row = conn.execute(text(f'SELECT "before"{cast}, "after"{cast} FROM audit_event WHERE id = :id'),
                       {"id": event_id}).one()
    return row[0], row[1]


# --- storage and the fast path ------------------------------------------------------------------


def test_documents_are_stored_as_the_hashed_text_and_verify_needs_no_parsing(engine: Engine, desk: Desk) -> None:
    ids = write_events(engine, desk)
    with session_scope(engine) as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.id.in_(ids))))
    with engine.connect() as conn:
        for event in events:
            assert raw_documents(conn, event.id) == (canonical_json(event.before), canonical_json(event.after))
    total = len(all_ids(engine))
    for batch in (50_000, 5, 1):
        result = checked(engine, batch=batch)
        # Every event, awkward strings included, was checked from its stored text alone.
        assert result.ok and result.checked == total and result.rechecked == 0, result
    with session_scope(engine) as s:
        assert s.scalars(select(AuditHead.hash)).one() == s.scalars(
            select(AuditEvent.hash).order_by(AuditEvent.id.desc())).first()


def test_events_written_before_canonical_storage_still_verify(engine: Engine, desk: Desk) -> None:
    """Events from before revision 0011 keep their documents in another JSON form (and, on
    PostgreSQL, in jsonb's): they verify by parsing, and tampering with them is still found."""
    write_events(engine, desk, 3)
    with session_scope(engine) as s:
        prev = s.scalars(select(AuditHead.hash)).one()
    created = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
    legacy = []
    for n, (before, after) in enumerate(itertools.pairwise(TRICKY_DOCUMENTS)):
        fields = hashed_fields(workspace_id=desk.workspace_id, actor_user_id=None, actor="legacy ñ",
                               action="case.updated", target_type="case", target_id=str(n), before=before,
                               after=after, created_at=created)
        digest = link_hash(prev, fields)
        legacy.append({"workspace_id": desk.workspace_id, "actor": "legacy ñ",
                       "action": "case.updated", "target_type": "case", "target_id": str(n),
                       # The old writer's form: json.dumps defaults, spaces and insertion order.
                       "before": json.dumps(before), "after": json.dumps(after),
                       "created_at": stored_time(engine.dialect.name, created),
                       "prev_hash": prev, "hash": digest})
        prev = digest
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_event (workspace_id, actor_user_id, actor, action, target_type, target_id, "
            '"before", "after", created_at, prev_hash, hash) VALUES (:workspace_id, NULL, :actor, :action, '
            f":target_type, :target_id, {as_json(engine.dialect.name, ':before')}, "
            f"{as_json(engine.dialect.name, ':after')}, :created_at, :prev_hash, :hash)"), legacy)
        conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
    result = checked(engine)
    assert result.ok, result
    stored_otherwise = [r for r in legacy if (r["before"], r["after"]) != (
        canonical_json(json.loads(r["before"])), canonical_json(json.loads(r["after"])))]
    assert result.rechecked == len(stored_otherwise) > 0
    # Events written now chain onto the old ones.
    write_events(engine, desk, 3)
    assert checked(engine).ok
    victim = all_ids(engine)[-5]  # one of the old events
    tamper(engine, ("UPDATE audit_event SET target_id = 'x' WHERE id = :id", {"id": victim}))
    result = checked(engine)
    assert (result.broken_id, result.reason) == (victim, "its content does not match its hash")


def retype_documents(engine: Engine, kind: str) -> None:
    """What revision 0011 does on PostgreSQL (``json``), or undoes (``jsonb``)."""
    with engine.begin() as conn:
        conn.execute(text(f'ALTER TABLE audit_event ALTER COLUMN "before" TYPE {kind} USING "before"::{kind}, '
                          f'ALTER COLUMN "after" TYPE {kind} USING "after"::{kind}'))


def test_documents_converted_from_jsonb_by_0011_still_verify(engine: Engine, desk: Desk) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite already stores the documents as given: 0011 changes nothing there")
    write_events(engine, desk)
    total = len(all_ids(engine))
    engine.dispose()
    retype_documents(engine, "jsonb")  # as before 0011
    try:
        # jsonb re-orders and re-spaces the documents: they are checked by parsing them.
        result = checked(engine)
        assert result.ok and result.checked == total and result.rechecked > 0, result
    finally:
        retype_documents(engine, "json")
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT data_type FROM information_schema.columns "
                                 "WHERE table_name = 'audit_event' AND column_name = 'after'")).scalar()
    assert kind == "json"
    converted = checked(engine)
    assert converted.ok and converted.rechecked == result.rechecked
    victim = all_ids(engine)[-3]
    tamper(engine, ("UPDATE audit_event SET actor = 'someone-else' WHERE id = :id", {"id": victim}))
    broken = checked(engine)
    assert (broken.broken_id, broken.reason) == (victim, CONTENT)


# --- tampering ----------------------------------------------------------------------------------

Statements = list[tuple[str, dict[str, Any]]]
Tamper = Callable[[str, list[int]], tuple[Statements, int, str]]
CONTENT, LINK = "its content does not match its hash", "its previous-hash link does not match"
REMOVED, ADDED = "events after this one were removed", "it was added after the chain's recorded last event"


def as_json(dialect: str, placeholder: str) -> str:
    # SQLite stores a document's text as given (CAST AS JSON would turn "null" into 0 there).
    return f"CAST({placeholder} AS JSON)" if dialect == "postgresql" else placeholder


def stored_time(dialect: str, moment: datetime) -> datetime | str:
    # Raw SQL on SQLite: the text the application's datetime type writes.
    return moment if dialect == "postgresql" else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def change(column: str, value: Any, document: bool = False) -> Tamper:
    # ids[-7] is the sixth of `write_events`: it has a workspace, a user and both documents.
    def make(dialect: str, ids: list[int]) -> tuple[Statements, int, str]:
        placeholder = as_json(dialect, ":v") if document else ":v"
        sql = f'UPDATE audit_event SET "{column}" = {placeholder} WHERE id = :id'
        return [(sql, {"v": value, "id": ids[-7]})], ids[-7], CONTENT
    return make


def one_second_later(dialect: str, ids: list[int]) -> tuple[Statements, int, str]:
    later = ("strftime('%Y-%m-%d %H:%M:%f000', created_at, '+1 second')" if dialect == "sqlite"
             else "created_at + interval '1 second'")
    return [(f"UPDATE audit_event SET created_at = {later} WHERE id = :id", {"id": ids[-7]})], ids[-7], CONTENT


def remove(position: int) -> Tamper:
    def make(dialect: str, ids: list[int]) -> tuple[Statements, int, str]:
        statements = [("DELETE FROM audit_event WHERE id = :id", {"id": ids[position]})]
        if ids[position] == ids[-1]:
            return statements, ids[-2], REMOVED
        return statements, ids[position + 1], LINK
    return make


def swap(dialect: str, ids: list[int]) -> tuple[Statements, int, str]:
    a, b = ids[-8], ids[-7]
    return [("UPDATE audit_event SET id = :t WHERE id = :a", {"t": -a, "a": a}),
            ("UPDATE audit_event SET id = :a WHERE id = :b", {"a": a, "b": b}),
            ("UPDATE audit_event SET id = :b WHERE id = :t", {"b": b, "t": -a})], a, LINK


def forge_prev_hash(dialect: str, ids: list[int]) -> tuple[Statements, int, str]:
    return [("UPDATE audit_event SET prev_hash = :v WHERE id = :id", {"v": "f" * 64, "id": ids[-7]})], ids[-7], LINK


TAMPERINGS: dict[str, Tamper] = {
    "actor": change("actor", "someone-else"),
    "action": change("action", "case.closed"),
    "target_type": change("target_type", "post"),
    "target_id": change("target_id", "999"),
    "workspace_id": change("workspace_id", None),
    "actor_user_id": change("actor_user_id", None),
    "after": change("after", '{"status":"closed"}', document=True),
    "before": change("before", "null", document=True),
    "before as SQL NULL": change("before", None),
    "created_at": one_second_later,
    "prev_hash": forge_prev_hash,
    # The event's own hash no longer matches its content (the next event's link breaks too).
    "hash": change("hash", "e" * 64),
    "removed first": remove(0),
    "removed in the middle": remove(-7),
    "removed last": remove(-1),
    "reordered": swap,
}


@pytest.mark.parametrize("kind", list(TAMPERINGS))
def test_verify_names_the_tampered_event(engine: Engine, desk: Desk, kind: str) -> None:
    write_events(engine, desk)
    ids = all_ids(engine)
    assert checked(engine).ok
    statements, expected, reason = TAMPERINGS[kind](engine.dialect.name, ids)
    tamper(engine, *statements)
    # The count is of the events checked before the broken one (and including it, for a removal).
    position = all_ids(engine).index(expected) + (reason == REMOVED)
    for batch in (50_000, 4):
        result = checked(engine, batch=batch)
        assert (result.broken_id, result.reason, result.checked) == (expected, reason, position), (kind, batch)


def test_a_forged_event_is_found_wherever_it_is_inserted(engine: Engine, desk: Desk) -> None:
    write_events(engine, desk)
    # Spread the ids out (they are not hashed: only the order is) to make room in the middle.
    tamper(engine, ("UPDATE audit_event SET id = -10 * id", {}), ("UPDATE audit_event SET id = -id", {}))
    ids = all_ids(engine)
    assert checked(engine).ok
    with session_scope(engine) as s:
        model = s.get(AuditEvent, ids[5])
        assert model is not None
        row = {c: getattr(model, c) for c in ("workspace_id", "actor_user_id", "actor", "target_type", "target_id")}
        prev = s.scalars(select(AuditEvent.hash).where(AuditEvent.id == ids[4])).one()
        head = s.scalars(select(AuditHead.hash)).one()

    def forged(event_id: int, prev_hash: str) -> dict[str, Any]:
        created = datetime(2026, 11, 20, 17, 5, 0, tzinfo=UTC)
        fields = hashed_fields(**row, action="case.refunded", before=None, after={"amount": 500}, created_at=created)
        # A well-formed event, hashed right and linked to the one before it.
        return {**row, "id": event_id, "action": "case.refunded", "before": "null", "after": '{"amount":500}',
                "created_at": stored_time(engine.dialect.name, created), "prev_hash": prev_hash,
                "hash": link_hash(prev_hash, fields)}

    insert = ("INSERT INTO audit_event (id, workspace_id, actor_user_id, actor, action, target_type, target_id, "
              '"before", "after", created_at, prev_hash, hash) VALUES (:id, :workspace_id, :actor_user_id, '
              f":actor, :action, :target_type, :target_id, {as_json(engine.dialect.name, ':before')}, "
              f"{as_json(engine.dialect.name, ':after')}, :created_at, :prev_hash, :hash)")
    tamper(engine, (insert, forged(ids[4] + 5, prev)))
    result = checked(engine, batch=3)
    assert (result.broken_id, result.reason, result.checked) == (ids[5], LINK, 6)
    tamper(engine, ("DELETE FROM audit_event WHERE id = :id", {"id": ids[4] + 5}), (insert, forged(ids[-1] + 10, head)))
    for batch in (50_000, 3):
        result = checked(engine, batch=batch)
        assert (result.broken_id, result.reason, result.checked) == (ids[-1] + 10, ADDED, len(ids))


def test_moving_text_from_one_document_to_the_other_is_found(engine: Engine, desk: Desk) -> None:
    """The documents are hashed side by side as stored: shifting bytes across the boundary keeps
    the hashed text but not what the application reads back, and is refused."""
    write_events(engine, desk, 3)
    with session_scope(engine) as s:
        record_many(s, Actor("agent@brisa.test"), [
            EventDraft("case.updated", "case", "1", None, {"x": 1}, {"a": 1, "before": {"x": 1}})])
        victim = s.scalars(select(AuditEvent.id).order_by(AuditEvent.id.desc())).first()
    write_events(engine, desk, 3)
    if engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL's json type refuses a document that is no JSON: nothing to shift")
    # after + ',"before":' + before is unchanged: {"a":1 | ,"before": | {"x":1}},"before":{"x":1}
    tamper(engine, ('UPDATE audit_event SET "after" = :a, "before" = :b WHERE id = :id',
                    {"a": '{"a":1', "b": '{"x":1}},"before":{"x":1}', "id": victim}))
    result = checked(engine)
    assert (result.broken_id, result.reason) == (victim, CONTENT)


def test_an_empty_chain_holds_and_a_lost_one_does_not(engine: Engine) -> None:
    result = checked(engine)
    assert result.ok and result.checked == 0
    with session_scope(engine) as s:
        s.add(AuditHead(id=1, seq=1, hash="a" * 64))
    assert checked(engine).broken_id == 0
    assert checked(engine).reason == REMOVED
