"""The case dossier: everything that happened on a case, documented for whoever needs to know.

The whole audit timeline (who, when in the workspace's time zone, what, before and after, and
each event's chain hash), the conversation, internal notes, guardrail decisions, follow-ups and
the customer's rating, linked improvements, and how it was resolved. As JSON, or as a PDF.

PDF fonts: the PDF embeds DejaVu Sans (Debian package ``fonts-dejavu-core``,
``/usr/share/fonts/truetype/dejavu/``) so every script and accent prints as written. Without
it, the PDF falls back to the core Helvetica font, which only has Latin-1: other characters
are transliterated (``ż`` → ``z``) or shown as ``?``. The JSON always carries the exact text.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import User, Workspace
from ventanilla.audit.models import AuditEvent
from ventanilla.cases import guardrails
from ventanilla.cases import service as cases
from ventanilla.cases.models import Case
from ventanilla.ingest.models import Author, Channel

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
DOSSIER_VERSION = 1


def _tz(workspace: Workspace | None) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone if workspace else "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _when(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z") if value else None


def _utc(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _timeline(session: Session, case: Case, post_ids: list[int], tz: ZoneInfo) -> list[dict[str, Any]]:
    conditions = (AuditEvent.target_type == "case") & (AuditEvent.target_id == str(case.id))
    if post_ids:
        conditions = conditions | ((AuditEvent.target_type == "post")
                                   & AuditEvent.target_id.in_([str(p) for p in post_ids]))
    events = list(session.scalars(select(AuditEvent).where(conditions).order_by(AuditEvent.id)))
    user_ids = {e.actor_user_id for e in events if e.actor_user_id is not None}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
    return [{
        "event_id": e.id, "at": _utc(e.created_at), "at_local": _when(e.created_at, tz),
        "actor": names.get(e.actor_user_id, e.actor) if e.actor_user_id else e.actor, "actor_id": e.actor,
        "action": e.action, "target": f"{e.target_type}:{e.target_id}",
        "before": e.before, "after": e.after, "hash": e.hash,
    } for e in events]


def build_dossier(session: Session, *, case: Case) -> dict[str, Any]:
    """The dossier as plain data (times in UTC ISO 8601, plus ``*_local`` in the workspace's zone)."""
    from ventanilla.followups.service import followups_for
    from ventanilla.improvements.service import for_case

    workspace = session.get(Workspace, case.workspace_id)
    tz = _tz(workspace)
    author = session.get(Author, case.author_id)
    channel = session.get(Channel, case.channel_id)
    assignee = session.get(User, case.assignee_id) if case.assignee_id else None
    posts = cases.conversation(session, case=case)
    guards = guardrails.post_guards(session, case=case)
    guardrail = guardrails.guardrail_for(session, case=case)
    timeline = _timeline(session, case, [p.id for p in posts], tz)
    resolved_by = next((e["actor"] for e in reversed(timeline) if e["action"] == "case.status_changed"
                        and (e["after"] or {}).get("status") == "resolved"), None)
    return {
        "dossier_version": DOSSIER_VERSION,
        "workspace": {"name": workspace.name if workspace else "", "timezone": str(tz.key)},
        "case": {
            "id": case.id, "status": case.status, "priority": case.priority, "language": case.language,
            "subject": case.subject, "post_count": case.post_count,
            "channel": {"name": channel.name, "network": channel.network, "public": channel.is_public}
            if channel else None,
            "author": {"handle": author.handle, "name": author.display_name, "network": author.network}
            if author else None,
            "assignee": assignee.name if assignee else None,
            "opened_at": _utc(case.opened_at), "opened_at_local": _when(case.opened_at, tz),
            "first_response_at": _utc(case.first_response_at),
            "first_response_at_local": _when(case.first_response_at, tz),
        },
        "guardrail": {"do_not_engage": guardrail.do_not_engage, "reason": guardrail.reason,
                      "set_at_local": _when(guardrail.set_at, tz)} if guardrail else None,
        "timeline": timeline,
        "conversation": [{
            "post_id": p.id, "direction": p.direction,
            "from": (f"@{author.handle}" if author else "customer") if p.direction == "in" else "us",
            "kind": p.kind, "network": p.network, "at": _utc(p.created_at), "at_local": _when(p.created_at, tz),
            "text": p.text, "url": p.url,
            "hide_request": {"state": guards[p.id].state, "hidden_in_inbox": guards[p.id].hidden,
                             "reason": guards[p.id].reason} if p.id in guards else None,
        } for p in posts],
        "notes": [{"by": name, "at": _utc(n.created_at), "at_local": _when(n.created_at, tz), "text": n.body}
                  for n, name in cases.notes(session, case=case)],
        "followups": [{
            "id": f.id, "state": f.state, "channel": f.channel, "due_at_local": _when(f.due_at, tz),
            "sent_at_local": _when(f.sent_at, tz),
            "csat": {"score": r.score, "comment": r.comment, "answered_at_local": _when(r.answered_at, tz)}
            if r else None,
        } for f, r in followups_for(session, case=case)],
        "improvements": [{"id": i.id, "title": i.title, "state": i.state,
                          "notice": {"state": n.state, "language": n.language} if n else None}
                         for i, n in for_case(session, case=case)],
        "resolution": {
            "status": case.status, "resolved_at": _utc(case.resolved_at),
            "resolved_at_local": _when(case.resolved_at, tz), "resolved_by": resolved_by,
            "closed_at": _utc(case.closed_at), "closed_at_local": _when(case.closed_at, tz),
        },
    }


def dossier_json(session: Session, *, case: Case) -> str:
    """The dossier as indented JSON (UTF-8 text, non-ASCII kept as written)."""
    return json.dumps(build_dossier(session, case=case), ensure_ascii=False, indent=2, default=str)


def unicode_font() -> Path | None:
    """The TTF embedded in PDFs, when the system has it (see the module's note)."""
    return FONT_REGULAR if FONT_REGULAR.is_file() else None


def latin1(text: str) -> str:
    """``text`` reduced to what the core PDF fonts can print: accents kept, others transliterated."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append("".join(c for c in base if not unicodedata.combining(c)) or "?")
    return "".join(out)


def _detail(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    return ", ".join(f"{k}={v}" for k, v in value.items())


def dossier_pdf(session: Session, *, case: Case) -> bytes:
    """The dossier as a PDF document."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    data = build_dossier(session, case=case)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    font = unicode_font()
    if font is not None:
        pdf.add_font("DejaVu", "", str(font))
        pdf.add_font("DejaVu", "B", str(FONT_BOLD if FONT_BOLD.is_file() else font))
        family = "DejaVu"

        def clean(text: str) -> str:
            return text
    else:
        family = "Helvetica"
        clean = latin1
    title = f"Case dossier #{case.id}"
    pdf.set_title(title)
    pdf.set_subject(f"{data['workspace']['name']} case {case.id}")
    pdf.set_creator("ventanilla")
    pdf.add_page()

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(2)
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, 7, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(text: str, size: int = 9) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, 4.6, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    c = data["case"]
    heading(f"{title} · {data['workspace']['name']}", 16)
    para(f"Status: {c['status']} · Priority P{c['priority']} · Language: {c['language'] or '-'} · "
         f"Time zone: {data['workspace']['timezone']}")
    if c["channel"]:
        para(f"Channel: {c['channel']['name']} ({c['channel']['network']})")
    if c["author"]:
        para(f"Customer: @{c['author']['handle']} {c['author']['name'] or ''}")
    para(f"Assignee: {c['assignee'] or '-'} · Opened: {c['opened_at_local']} · "
         f"First response: {c['first_response_at_local'] or '-'}")
    if data["guardrail"] and data["guardrail"]["do_not_engage"]:
        para(f"DO NOT ENGAGE since {data['guardrail']['set_at_local']}: {data['guardrail']['reason']}")
    r = data["resolution"]
    heading("Resolution")
    para(f"Status: {r['status']} · Resolved: {r['resolved_at_local'] or '-'} by {r['resolved_by'] or '-'} · "
         f"Closed: {r['closed_at_local'] or '-'}")
    heading("Timeline")
    for e in data["timeline"]:
        line = f"{e['at_local']} · {e['actor']} · {e['action']}"
        if e["before"]:
            line += f"\n    before: {_detail(e['before'])}"
        if e["after"]:
            line += f"\n    after: {_detail(e['after'])}"
        para(line, 8)
    heading("Conversation")
    for p in data["conversation"]:
        hidden = f" [hide request: {p['hide_request']['state']}]" if p["hide_request"] else ""
        para(f"{p['at_local']} · {p['from']} · {p['kind']} · {p['network']}{hidden}", 8)
        para(p["text"])
    heading("Internal notes")
    for n in data["notes"] or [{"by": "-", "at_local": "", "text": "none"}]:
        para(f"{n['at_local']} · {n['by']}: {n['text']}")
    if data["followups"]:
        heading("Follow-ups and satisfaction")
        for f in data["followups"]:
            score = f"CSAT {f['csat']['score']}/5: {f['csat']['comment'] or '-'}" if f["csat"] else "no answer"
            para(f"#{f['id']} {f['state']} ({f['channel']}) · due {f['due_at_local']} · {score}")
    if data["improvements"]:
        heading("Improvements")
        for i in data["improvements"]:
            para(f"#{i['id']} {i['title']} ({i['state']})")
    return bytes(pdf.output())
