"""How an audit event is hashed: SHA-256 over the previous hash and the event's canonical JSON."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


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
        # Microseconds are dropped: not every engine keeps them.
        "created_at": created_at.replace(microsecond=0).isoformat(),
    }
