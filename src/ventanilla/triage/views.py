"""Correcting a post's labels from the case view."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ventanilla.accounts.service import Principal
from ventanilla.ingest.models import Post
from ventanilla.triage.service import CorrectionError, correct_label
from ventanilla.web.deps import DbSession, csrf_protect, require_page

router = APIRouter()


@router.post("/posts/{post_id}/labels", dependencies=[Depends(csrf_protect)])
def correct(
    post_id: int, session: DbSession, principal: Annotated[Principal, Depends(require_page("work_cases"))],
    correction: Annotated[str, Form()] = "",
) -> Response:
    post = session.scalar(select(Post).where(Post.id == post_id, Post.workspace_id == principal.workspace_id))
    if post is None:
        raise HTTPException(status_code=404, detail="no such post")
    label, _, value = correction.partition("=")
    back = f"/cases/{post.case_id}" if post.case_id else "/"
    try:
        correct_label(session, post=post, label=label, value=value, user_id=principal.user_id,
                      actor=principal.actor)
        session.commit()
    except CorrectionError as exc:
        return RedirectResponse(f"{back}?error={quote(str(exc))}", status_code=303)
    return RedirectResponse(f"{back}#post-{post.id}", status_code=303)
