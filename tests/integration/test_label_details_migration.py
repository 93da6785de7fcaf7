"""Migration 0016 on both engines: triage's details move out of ``post.labels`` into
``post.label_details`` and back on downgrade, nothing else in the documents changes, and posts
without labels or without details are left as they were."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

VALUES = {"language": "es", "complaint": "yes", "sentiment": "negative", "reason": "lost", "offensive": "no",
          "intent": "wants_fix", "priority": 2, "impact": 61.5, "model_version": "triage-test"}
DETAILS = {"sentiment": {"confidence": 0.91, "evidence": ["maleta", "perdida"]}, "reason": None,
           "impact": {"reach": 10.0, "severity": 40.0}, "urgency": [{"kind": "legal", "start": 3, "end": 10,
                                                                    "text": "abogado"}]}


def _documents(url: str) -> dict[str, tuple[Any, Any]]:
    from ventanilla.db import dispose_engines, get_engine

    dispose_engines()
    with get_engine(url).connect() as conn:
        has_details = "label_details" in set(conn.execute(text("SELECT * FROM post LIMIT 0")).keys())
        column = ", label_details" if has_details else ""
        rows = conn.execute(text(f"SELECT external_id, labels{column} FROM post ORDER BY id")).all()
    dispose_engines()

    def load(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    return {r[0]: (load(r[1]), load(r[2]) if has_details else None) for r in rows}


def test_migration_0016_splits_the_details_out_and_back(scratch_url: str) -> None:
    from alembic import command

    from ventanilla.db import dispose_engines, get_engine
    from ventanilla.migrate import alembic_config, upgrade

    upgrade(scratch_url, "0015")
    now = "2026-12-06 10:00:00+00:00"
    with get_engine(scratch_url).begin() as conn:
        conn.execute(text("INSERT INTO workspace (id, slug, name, timezone, languages, settings, created_at) "
                          "VALUES (1, 'brisa', 'Brisa', 'UTC', '[]', '{}', :now)"), {"now": now})
        conn.execute(text("INSERT INTO channel (id, workspace_id, slug, name, network, account, is_public, settings, "
                          "created_at) VALUES (1, 1, 'x', 'X', 'x', '@brisa', true, '{}', :now)"), {"now": now})
        conn.execute(text("INSERT INTO author (id, workspace_id, network, handle, verified, first_seen_at, "
                          "last_seen_at) VALUES (1, 1, 'x', 'lola', false, :now, :now)"), {"now": now})
        for number, labels in enumerate([{**VALUES, "details": DETAILS}, VALUES, None, {**VALUES, "details": None}],
                                        start=1):
            conn.execute(text(
                "INSERT INTO post (id, workspace_id, channel_id, author_id, network, external_id, direction, kind, "
                "text, created_at, received_at, likes, shares, replies, raw, labels) VALUES (:id, 1, 1, 1, 'x', "
                ":ext, 'in', 'mention', 'Perdieron mi maleta', :now, :now, 0, 0, 0, '{}', :labels)"),
                {"id": number, "ext": f"p{number}", "now": now,
                 "labels": None if labels is None else json.dumps(labels)})
        # A row pointing at a post: the downgrade must not copy the table (its foreign key would
        # refuse the drop on SQLite).
        conn.execute(text("INSERT INTO user_account (id, email, name, password_hash, is_active, language, "
                          "created_at) VALUES (1, 'a@brisa.test', 'A', 'x', true, 'es', :now)"), {"now": now})
        conn.execute(text("INSERT INTO label_correction (workspace_id, post_id, label, old_value, new_value, text, "
                          "user_id, model_version, created_at) VALUES (1, 1, 'reason', 'lost', 'late', 'x', 1, "
                          "'m', :now)"), {"now": now})
    dispose_engines()

    upgrade(scratch_url, "0016")
    assert _documents(scratch_url) == {"p1": (VALUES, DETAILS), "p2": (VALUES, None), "p3": (None, None),
                                       "p4": (VALUES, None)}

    command.downgrade(alembic_config(scratch_url), "0015")
    dispose_engines()
    assert _documents(scratch_url) == {"p1": ({**VALUES, "details": DETAILS}, None), "p2": (VALUES, None),
                                       "p3": (None, None), "p4": (VALUES, None)}
