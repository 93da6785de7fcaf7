"""Exporting cases for analysts and other tools."""

from __future__ import annotations

import csv
import json
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import User
from ventanilla.cases.models import Case
from ventanilla.ingest.models import Author, Channel

FIELDS = ["id", "status", "priority", "language", "channel", "network", "author", "assignee",
          "subject", "post_count", "opened_at", "first_response_at", "resolved_at", "closed_at"]


def case_rows(session: Session, *, workspace_id: int) -> list[dict[str, Any]]:
    """Every case of the workspace as a flat dict (times in ISO 8601 UTC)."""
    rows = session.execute(
        select(Case, Author.handle, Channel.slug, Channel.network, User.email)
        .join(Author, Author.id == Case.author_id).join(Channel, Channel.id == Case.channel_id)
        .outerjoin(User, User.id == Case.assignee_id)
        .where(Case.workspace_id == workspace_id).order_by(Case.id)
    ).all()

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return [
        {"id": c.id, "status": c.status, "priority": f"P{c.priority}", "language": c.language,
         "channel": slug, "network": network, "author": handle, "assignee": email,
         "subject": c.subject, "post_count": c.post_count, "opened_at": iso(c.opened_at),
         "first_response_at": iso(c.first_response_at), "resolved_at": iso(c.resolved_at),
         "closed_at": iso(c.closed_at)}
        for c, handle, slug, network, email in rows
    ]


def write_cases(session: Session, *, workspace_id: int, fmt: str, out: IO[str]) -> int:
    """Write the workspace's cases to ``out`` as CSV or JSON; returns how many."""
    rows = case_rows(session, workspace_id=workspace_id)
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
