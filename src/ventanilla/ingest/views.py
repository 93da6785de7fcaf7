"""The admin's channels page: health, webhook URLs, connection tests, syncs, credentials."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ventanilla.accounts.service import Principal
from ventanilla.db import utcnow
from ventanilla.ingest.channels import NETWORKS, PRIVATE_NETWORKS, ChannelError, create_channel, list_channels
from ventanilla.ingest.listen import wants_push
from ventanilla.ingest.listener_lease import listener_states, push_status
from ventanilla.ingest.models import Channel
from ventanilla.ingest.sync import (
    SYNC_TASK,
    check_connection,
    describe_error,
    enable_polling,
    pollable,
    rotate_secrets,
    stored_secrets,
    sync_state,
)
from ventanilla.web.deps import DbReadSession, DbSession, csrf_protect, require_page
from ventanilla.web.i18n import gettext as _
from ventanilla.web.templating import render
from ventanilla.workers.queue import get_queue

router = APIRouter()
Admin = Annotated[Principal, Depends(require_page("admin"))]
PAIRS = 3  # credential rows in the add and rotate forms


def _rows(session: Session, workspace_id: int) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    channels = list_channels(session, workspace_id=workspace_id)
    listeners = listener_states(session, [channel.id for channel in channels])
    for channel in channels:
        state = sync_state(session, channel.id)
        polled = state is not None and state.poll_seconds > 0
        if not polled:
            health = "not_polled"
        elif state is not None and not state.healthy:
            health = "unhealthy"
        elif state is not None and state.backoff_until is not None and state.backoff_until > now:
            health = "backing_off"
        else:
            health = "ok"
        listener = listeners.get(channel.id)
        pushes = listener is not None or wants_push(channel, state.poll_seconds if state is not None else 0)
        rows.append({"channel": channel, "state": state, "health": health, "pollable": pollable(channel.network),
                     "webhook": f"/api/v1/webhooks/{channel.id}",
                     "push": push_status(listener, now) if pushes else None})
    return rows


def _page(request: Request, session: Session, principal: Principal, *, status_code: int = 200,
          result: dict[str, Any] | None = None, error: str | None = None) -> Response:
    return render(request, "channels.html", {
        "rows": _rows(session, principal.workspace_id), "networks": NETWORKS, "pairs": range(PAIRS),
        "result": result, "error": error, "base_url": str(request.base_url).rstrip("/"),
    }, status_code=status_code)


def _channel(session: Session, principal: Principal, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.workspace_id != principal.workspace_id:
        raise HTTPException(status_code=404, detail=_("No such channel."))
    return channel


def _pairs(keys: list[str], values: list[str]) -> dict[str, str]:
    return {k.strip(): v for k, v in zip(keys, values, strict=False) if k.strip() and v}


def _settings(text: str) -> dict[str, Any]:
    import json

    settings: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ChannelError(_("Each setting goes on its own line as KEY=VALUE."))
        value = value.strip()
        try:  # lists, objects and booleans as JSON; ids and numbers stay strings
            is_json = value[:1] in ("[", "{") or value in ("true", "false", "null")
            settings[key.strip()] = json.loads(value) if is_json else value
        except ValueError:
            settings[key.strip()] = value
    return settings


@router.get("/admin/channels")
def channels_page(request: Request, session: DbReadSession, principal: Admin) -> Response:
    return _page(request, session, principal)


@router.post("/admin/channels", dependencies=[Depends(csrf_protect)])
def add_channel(
    request: Request, session: DbSession, principal: Admin,
    slug: Annotated[str, Form()], name: Annotated[str, Form()], network: Annotated[str, Form()],
    account: Annotated[str, Form()] = "", visibility: Annotated[str, Form()] = "auto",
    settings: Annotated[str, Form()] = "", poll_seconds: Annotated[int, Form()] = 300,
    secret_key: Annotated[list[str] | None, Form()] = None,
    secret_value: Annotated[list[str] | None, Form()] = None,
) -> Response:
    is_public = network not in PRIVATE_NETWORKS if visibility == "auto" else visibility == "public"
    try:
        channel = create_channel(session, workspace_id=principal.workspace_id, slug=slug.strip(), name=name.strip(),
                                 network=network, account=account.strip(), is_public=is_public,
                                 secrets_=_pairs(secret_key or [], secret_value or []),
                                 settings=_settings(settings), actor=principal.actor)
        if poll_seconds > 0 and pollable(network):
            enable_polling(session, channel, poll_seconds=poll_seconds, actor=principal.actor)
        session.commit()
    except ChannelError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=422, error=str(exc))
    except IntegrityError:
        session.rollback()
        return _page(request, session, principal, status_code=422,
                     error=_("A channel with this short name already exists."))
    return RedirectResponse("/admin/channels", status_code=303)


@router.post("/admin/channels/{channel_id}/test", dependencies=[Depends(csrf_protect)])
def test_channel(request: Request, session: DbSession, principal: Admin, channel_id: int) -> Response:
    channel = _channel(session, principal, channel_id)
    session.expunge(channel)
    session.rollback()  # no transaction held while the network answers
    try:
        name = check_connection(channel)
        result = {"channel_id": channel_id, "ok": True, "message": _("Connected as %(name)s.") % {"name": name}}
    except Exception as exc:
        result = {"channel_id": channel_id, "ok": False,
                  "message": describe_error(exc, stored_secrets(channel))}
    return _page(request, session, principal, result=result)


@router.post("/admin/channels/{channel_id}/sync", dependencies=[Depends(csrf_protect)])
def sync_now(request: Request, session: DbSession, principal: Admin, channel_id: int) -> Response:
    channel = _channel(session, principal, channel_id)
    if not pollable(channel.network):
        return _page(request, session, principal, status_code=422, result={
            "channel_id": channel_id, "ok": False, "message": _("This network cannot be polled.")})
    session.rollback()
    # Through the queue: in-process by default (done when the page comes back), or a worker.
    get_queue().enqueue(SYNC_TASK, {"channel_id": channel_id})
    state = sync_state(session, channel_id)
    error = state.last_error if state is not None else None
    message = error or _("Sync done or queued; the table shows the last result.")
    return _page(request, session, principal,
                 result={"channel_id": channel_id, "ok": error is None, "message": message})


@router.post("/admin/channels/{channel_id}/rotate", dependencies=[Depends(csrf_protect)])
def rotate_channel(
    request: Request, session: DbSession, principal: Admin, channel_id: int,
    secret_key: Annotated[list[str] | None, Form()] = None,
    secret_value: Annotated[list[str] | None, Form()] = None,
) -> Response:
    channel = _channel(session, principal, channel_id)
    try:
        keys = rotate_secrets(session, channel, _pairs(secret_key or [], secret_value or []), principal.actor)
        session.commit()
    except ChannelError as exc:
        session.rollback()
        return _page(request, session, principal, status_code=422,
                     result={"channel_id": channel_id, "ok": False, "message": str(exc)})
    names = ", ".join(keys["added"] + keys["changed"]) or _("none")
    return _page(request, session, principal, result={
        "channel_id": channel_id, "ok": True, "message": _("Credentials stored: %(keys)s.") % {"keys": names}})
