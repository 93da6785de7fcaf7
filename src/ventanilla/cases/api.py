"""REST API for cases, their posts, notes and authors (`/api/v1`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AliasChoices, BaseModel, Field
from sqlalchemy import select

from ventanilla.accounts.service import Principal
from ventanilla.cases import service
from ventanilla.cases.models import Case, CaseStatus
from ventanilla.ingest.models import Author, Post
from ventanilla.web.deps import DbSession, require_api

router = APIRouter(prefix="/api/v1", tags=["cases"])
Reader = Annotated[Principal, Depends(require_api("read_inbox"))]
Worker = Annotated[Principal, Depends(require_api("work_cases"))]


class PostOut(BaseModel):
    id: int
    network: str
    external_id: str
    direction: str
    kind: str
    text: str
    language: str | None
    url: str | None
    created_at: datetime
    received_at: datetime
    author_id: int
    channel_id: int
    case_id: int | None
    parent_external_id: str | None
    thread_external_id: str | None
    likes: int
    shares: int
    replies: int
    # Triage's labels with their details under "details" (stored in two columns since 0016).
    labels: dict[str, Any] | None = Field(validation_alias=AliasChoices("labels_with_details", "labels"))

    model_config = {"from_attributes": True}


class CaseOut(BaseModel):
    id: int
    status: str
    priority: int
    language: str | None
    subject: str
    author_id: int
    channel_id: int
    assignee_id: int | None
    team_id: int | None
    post_count: int
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    last_activity_at: datetime
    version: int

    model_config = {"from_attributes": True}


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    per_page: int


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=service.MAX_NOTE)


class NoteOut(BaseModel):
    id: int
    case_id: int
    user_id: int
    author: str
    body: str
    created_at: datetime


class AssignIn(BaseModel):
    assignee_id: int | None = Field(description="User id, or null to unassign.")
    expected_version: int | None = Field(default=None, description="Refuse if the case changed since.")


class StatusIn(BaseModel):
    status: CaseStatus


class AuthorOut(BaseModel):
    id: int
    network: str
    handle: str
    display_name: str | None
    followers: int | None
    verified: bool
    first_seen_at: datetime
    last_seen_at: datetime

    model_config = {"from_attributes": True}


def _case(session: DbSession, principal: Principal, case_id: int) -> Case:
    case = service.get_case(session, workspace_id=principal.workspace_id, case_id=case_id)
    if case is None:
        raise HTTPException(status_code=404, detail="no such case")
    return case


@router.get("/cases", response_model=CasePage)
def list_cases(
    session: DbSession, principal: Reader,
    status: str = "active", channel_id: int | None = None, language: str | None = None,
    priority: Annotated[int | None, Query(ge=1, le=4)] = None, assignee: str | None = None,
    q: str | None = None, sort: str = "priority",
    page: Annotated[int, Query(ge=1)] = 1, per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    hidden: Annotated[str | None, Query(pattern="^(only|all)$")] = None,
) -> CasePage:
    """Cases as the inbox lists them, with the same filters (hidden spam left out unless `hidden`
    is "only" or "all")."""
    result = service.inbox(session, workspace_id=principal.workspace_id, user_id=principal.user_id,
                           filters=service.InboxFilter(status=status or None, channel_id=channel_id,
                                                       language=language, priority=priority,
                                                       assignee=assignee, q=q, sort=sort, page=page,
                                                       per_page=per_page, hidden=hidden))
    return CasePage(items=[CaseOut.model_validate(r.case) for r in result.rows], total=result.total,
                    page=result.page, per_page=result.per_page)


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: int, session: DbSession, principal: Reader) -> Case:
    """One case."""
    return _case(session, principal, case_id)


@router.get("/cases/{case_id}/posts", response_model=list[PostOut])
def case_posts(case_id: int, session: DbSession, principal: Reader) -> list[Post]:
    """The case's conversation, oldest first."""
    return service.conversation(session, case=_case(session, principal, case_id))


@router.post("/cases/{case_id}/assign", response_model=CaseOut)
def assign(case_id: int, body: AssignIn, session: DbSession, principal: Worker) -> Case:
    """Assign or unassign; 409 names who holds the case when someone else changed it first."""
    case = _case(session, principal, case_id)
    try:
        service.assign(session, case=case, assignee_id=body.assignee_id, actor=principal.actor,
                       expected_version=body.expected_version)
    except service.CaseConflict as exc:
        raise HTTPException(status_code=409, detail={"error": str(exc), "holder": exc.holder}) from exc
    except service.CaseError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    session.commit()
    return case


@router.post("/cases/{case_id}/status", response_model=CaseOut)
def change_status(case_id: int, body: StatusIn, session: DbSession, principal: Worker) -> Case:
    """Move the case through its workflow (new, open, waiting, resolved, closed)."""
    case = _case(session, principal, case_id)
    try:
        service.set_status(session, case=case, status=body.status, actor=principal.actor)
    except service.CaseError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    session.commit()
    return case


@router.get("/cases/{case_id}/notes", response_model=list[NoteOut])
def list_notes(case_id: int, session: DbSession, principal: Reader) -> list[NoteOut]:
    """The case's internal notes."""
    case = _case(session, principal, case_id)
    return [NoteOut(id=n.id, case_id=n.case_id, user_id=n.user_id, author=name, body=n.body,
                    created_at=n.created_at) for n, name in service.notes(session, case=case)]


@router.post("/cases/{case_id}/notes", response_model=NoteOut, status_code=201)
def add_note(case_id: int, body: NoteIn, session: DbSession, principal: Worker) -> NoteOut:
    """Add an internal note."""
    case = _case(session, principal, case_id)
    try:
        note = service.add_note(session, case=case, user_id=principal.user_id, body=body.body,
                                actor=principal.actor)
    except service.CaseError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    session.commit()
    return NoteOut(id=note.id, case_id=case.id, user_id=principal.user_id, author=principal.name,
                   body=note.body, created_at=note.created_at)


@router.get("/posts", response_model=list[PostOut])
def list_posts(
    session: DbSession, principal: Reader,
    after_id: Annotated[int, Query(ge=0, description="Only posts with a larger id (paging).")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Post]:
    """Posts in id order, for syncing other tools."""
    return list(session.scalars(select(Post).where(Post.workspace_id == principal.workspace_id,
                                                   Post.id > after_id).order_by(Post.id).limit(limit)))


@router.get("/posts/{post_id}", response_model=PostOut)
def get_post(post_id: int, session: DbSession, principal: Reader) -> Post:
    """One post."""
    post = session.scalar(select(Post).where(Post.id == post_id, Post.workspace_id == principal.workspace_id))
    if post is None:
        raise HTTPException(status_code=404, detail="no such post")
    return post


@router.get("/authors/{author_id}", response_model=AuthorOut)
def get_author(author_id: int, session: DbSession, principal: Reader) -> Author:
    """One author, as the network described them."""
    author = session.scalar(select(Author).where(Author.id == author_id,
                                                 Author.workspace_id == principal.workspace_id))
    if author is None:
        raise HTTPException(status_code=404, detail="no such author")
    return author


@router.get("/authors/{author_id}/cases", response_model=list[CaseOut])
def author_cases(author_id: int, session: DbSession, principal: Reader) -> list[Case]:
    """The author's cases, newest first."""
    return list(session.scalars(select(Case).where(Case.author_id == author_id,
                                                   Case.workspace_id == principal.workspace_id)
                                .order_by(Case.opened_at.desc())))
