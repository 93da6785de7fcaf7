"""Playbook drafts for messages we prepare on a case after the fact: the satisfaction check and
the "what you reported is fixed" notice. Same playbook templates as every reply, in the
customer's language, private (they continue the conversation, never a public post)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import User, Workspace
from ventanilla.cases.models import Case
from ventanilla.ingest.models import Author, Channel, Post
from ventanilla.replies.draft_context import LANGUAGES, REASONS, DraftContext
from ventanilla.replies.drafts import draft

# Who signs when nobody is assigned to the case.
TEAM_SIGNATURE = {"es": "el equipo", "en": "the team"}


@dataclass(frozen=True, slots=True)
class CaseMessage:
    """A prepared message: its language and text (empty when the playbook says not to send)."""

    language: str
    text: str
    note: str = ""


def _labels(session: Session, case: Case) -> dict[str, Any]:
    if case.origin_post_id is not None:
        labels = session.scalar(select(Post.labels).where(Post.id == case.origin_post_id))
        if labels:
            return dict(labels)
    labels = session.scalar(select(Post.labels).where(
        Post.case_id == case.id, Post.direction == "in", Post.labels.is_not(None))
        .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))
    return dict(labels or {})


def _lang(value: object) -> str | None:
    code = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def case_language(session: Session, *, case: Case) -> str:
    """The customer's language: the case's, else triage's, else the workspace's first one."""
    for value in (case.language, _labels(session, case).get("language")):
        lang = _lang(value)
        if lang:
            return lang
    workspace = session.get(Workspace, case.workspace_id)
    return next((lang for lang in (workspace.languages if workspace else []) or [] if _lang(lang)), LANGUAGES[0])


def case_reason(session: Session, *, case: Case) -> str:
    """The case's complaint reason as the playbook knows it ("other" when triage did not say)."""
    reason = _labels(session, case).get("reason")
    return str(reason) if reason in REASONS else "other"


def prepare(session: Session, *, case: Case, stage: str, signer_id: int | None = None,
            survey_url: str | None = None, improvement_note: str | None = None) -> CaseMessage:
    """The playbook draft for ``stage`` on the case, signed by ``signer_id`` (else the assignee,
    else the team), in the customer's language, as a private message."""
    workspace = session.get(Workspace, case.workspace_id)
    channel = session.get(Channel, case.channel_id)
    author = session.get(Author, case.author_id)
    if workspace is None or channel is None or author is None:
        raise ValueError("the case's workspace, channel or author is missing")
    lang = case_language(session, case=case)
    signer = session.get(User, signer_id or case.assignee_id) if (signer_id or case.assignee_id) else None
    first = (author.display_name or "").split()
    try:
        promise = int((workspace.settings or {}).get("promise_hours", 24))
    except (TypeError, ValueError):
        promise = 24
    ctx = DraftContext(
        customer_lang=lang,
        reason=case_reason(session, case=case),
        # Follow-ups speak to a customer who complained, whatever triage first thought of the post.
        intent="wants_fix",
        stage=stage,
        public=False,
        agent_name=signer.first_name if signer else TEAM_SIGNATURE[lang],
        brand=workspace.name,
        network=channel.network,
        customer_handle=None,
        customer_name=first[0] if first else None,
        promise_hours=promise if 1 <= promise <= 24 * 14 else 24,
        survey_url=survey_url,
        improvement_note=improvement_note or None,
    )
    result = draft(ctx)
    return CaseMessage(lang, result.text, result.note)
