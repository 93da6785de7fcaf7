"""REST API for replies (`/api/v1`): list and submit a case's replies, approve or reject them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from ventanilla.accounts.service import Principal
from ventanilla.cases.models import Case
from ventanilla.cases.service import get_case
from ventanilla.replies import outbox, service
from ventanilla.replies.models import Reply, ReplyStatus
from ventanilla.web.deps import DbSession, require_api

router = APIRouter(prefix="/api/v1", tags=["replies"])
Reader = Annotated[Principal, Depends(require_api("read_inbox"))]
Worker = Annotated[Principal, Depends(require_api("work_cases"))]
Lead = Annotated[Principal, Depends(require_api("lead"))]


class ReplyOut(BaseModel):
    id: int
    case_id: int
    channel_id: int
    author_id: int
    text: str
    language: str
    public: bool
    stage: str
    status: str
    findings: list[dict[str, Any]]
    approval_reasons: list[str]
    offer_amount: Decimal | None
    offer_currency: str | None
    reviewer_id: int | None
    review_comment: str | None
    reviewed_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    external_id: str | None
    url: str | None
    sent_at: datetime | None
    created_at: datetime

    model_config = {"from_attributes": True}


class ReplyIn(BaseModel):
    text: str = Field(min_length=1, max_length=service.MAX_REPLY_CHARS)
    public: bool = True
    stage: str | None = None
    offer_amount: Decimal | None = Field(default=None, ge=0)


class ReviewIn(BaseModel):
    comment: str = Field(default="", max_length=service.MAX_COMMENT_CHARS)


def _case(session: DbSession, principal: Principal, case_id: int) -> Case:
    case = get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="no such case")
    return case


def _reply(session: DbSession, principal: Principal, reply_id: int) -> Reply:
    reply = service.get_reply(session, workspace_id=principal.workspace_id, reply_id=reply_id)
    if reply is None:
        raise HTTPException(status_code=404, detail="no such reply")
    return reply


@router.get("/cases/{case_id}/replies", response_model=list[ReplyOut])
def list_replies(case_id: int, session: DbSession, principal: Reader) -> list[Reply]:
    """The case's replies, oldest first, with their status, findings and review."""
    return service.replies_for_case(session, case=_case(session, principal, case_id))


@router.post("/cases/{case_id}/replies", response_model=ReplyOut, status_code=201)
def create_reply(case_id: int, body: ReplyIn, session: DbSession, principal: Worker) -> Reply:
    """Submit a reply: linted, then queued for sending, or held for a lead (``approval_reasons``)."""
    case = _case(session, principal, case_id)
    try:
        reply = service.submit_reply(session, case=case, text=body.text, actor=principal, public=body.public,
                                     stage=body.stage, offer_amount=body.offer_amount)
        session.commit()
    except service.ReplyForbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except service.ReplyError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if reply.status == ReplyStatus.queued.value:
        outbox.dispatch(reply.id)
        session.refresh(reply)
    return reply


def _review(session: DbSession, principal: Principal, reply_id: int, approve: bool, comment: str) -> Reply:
    reply = _reply(session, principal, reply_id)
    try:
        if approve:
            service.approve(session, reply=reply, actor=principal, comment=comment)
        else:
            service.reject(session, reply=reply, actor=principal, comment=comment)
        session.commit()
    except service.ReplyForbidden as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except service.ReplyError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    if reply.status == ReplyStatus.approved.value:
        outbox.dispatch(reply.id)
        session.refresh(reply)
    return reply


@router.post("/replies/{reply_id}/approve", response_model=ReplyOut)
def approve_reply(reply_id: int, session: DbSession, principal: Lead, body: ReviewIn | None = None) -> Reply:
    """Approve a held reply (leads and admins); it is sent next."""
    return _review(session, principal, reply_id, True, body.comment if body else "")


@router.post("/replies/{reply_id}/reject", response_model=ReplyOut)
def reject_reply(reply_id: int, body: ReviewIn, session: DbSession, principal: Lead) -> Reply:
    """Reject a held reply with a comment (required); it is never sent."""
    return _review(session, principal, reply_id, False, body.comment)
