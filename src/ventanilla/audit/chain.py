"""How an audit event is hashed: SHA-256 over the previous hash and the event's canonical JSON.

The hashed bytes are ``prev_hash`` (64 hex characters) followed by the UTF-8 of the event's
canonical JSON: an object with sorted keys, no spaces, non-ASCII kept as is, ``created_at`` as
UTC ISO time to the second. `canonical` builds it from Python values: the reference definition.
`event_text` (the writer) builds the very same text by splicing the documents' canonical JSON
text between the JSON-quoted scalar fields; since revision 0011 that text is also what is stored
in ``before``/``after``, so the verifier (`verifier`) has the database splice the stored text the
same way and only hashes it: no JSON parsing, no datetime handling per event. The hashed format
never changed: every event ever written verifies against the same bytes, with no version field.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64

# The canonical JSON of `hashed_fields` with its keys in sorted order. The two `%s` for the
# documents take canonical JSON text; the others take a JSON string (`encode_basestring`), an
# integer's digits or ``null``, and created_at's ISO text.
EVENT_TEMPLATE = (
    '{"action":%s,"actor":%s,"actor_user_id":%s,"after":%s,"before":%s,"created_at":"%s",'
    '"target_id":%s,"target_type":%s,"workspace_id":%s}'
)

quote = encode_basestring
"""A str as a JSON string literal, exactly as ``json.dumps(..., ensure_ascii=False)`` writes it."""


def canonical_json(value: Any) -> str:
    """A JSON document's canonical text (sorted keys, no spaces, non-ASCII kept as is)."""
    if value is None:  # most events have no `before`
        return "null"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(event: dict[str, Any]) -> bytes:
    """The event's fields as canonical JSON (sorted keys, no spaces, UTC ISO times)."""

    def default(value: Any) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        return str(value)

    return json.dumps(
        event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default
    ).encode()


def link_hash(prev_hash: str, event: dict[str, Any]) -> str:
    """The hash that chains ``event`` to the event before it."""
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def iso_second(created_at: datetime) -> str:
    """created_at as hashed: ISO text to the second (not every engine keeps microseconds)."""
    return created_at.replace(microsecond=0).isoformat()


def hashed_fields(
    *,
    workspace_id: int | None,
    actor_user_id: int | None,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    created_at: datetime,
) -> dict[str, Any]:
    """The fields an event's hash covers, in one place for writers and the verifier."""
    return {
        "workspace_id": workspace_id,
        "actor_user_id": actor_user_id,
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "before": before,
        "after": after,
        "created_at": iso_second(created_at),
    }


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def event_text(
    *,
    workspace_id: int | None,
    actor_user_id: int | None,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before_json: str,
    after_json: str,
    created_at: str,
) -> str:
    """`canonical` of the same fields, from the documents' canonical JSON text and ISO time."""
    return EVENT_TEMPLATE % (
        quote(action), quote(actor), _number(actor_user_id), after_json, before_json, created_at,
        quote(target_id), quote(target_type), _number(workspace_id),
    )


def text_hash(prev_hash: str, text: str) -> str:
    """The hash chaining an event whose canonical JSON is ``text`` to ``prev_hash``."""
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()
