"""`ventanilla channels`: add, list, test, poll, listen to and rotate the credentials of network channels."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Network channels: add them, check their credentials, poll or listen to them, rotate "
                       "secrets.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug.")]
SecretOpt = Annotated[list[str] | None, typer.Option(
    "--secret", help="Credential KEY=VALUE, or just KEY to be prompted without echo (repeatable).")]
CLI_ACTOR_NAME = "cli"


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def _workspace_id(slug: str) -> int:
    from ventanilla.accounts.service import get_workspace
    from ventanilla.db import session_scope

    with session_scope() as session:
        workspace = get_workspace(session, slug=slug)
        if workspace is None:
            _fail(f"no workspace {slug!r}; run `ventanilla init` first")
            raise AssertionError
        return workspace.id


def _value(text: str) -> Any:
    # Lists, objects and booleans are read as JSON; everything else stays a string, so that
    # numeric-looking ids ("user_id=1480000000000000001") keep the type the networks use.
    if text.strip()[:1] in ("[", "{") or text.strip() in ("true", "false", "null"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a settings dict (JSON lists, objects and booleans are parsed)."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--setting")
        settings[key.strip()] = _value(value)
    return settings


def parse_secrets(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` pairs as secrets; a bare ``KEY`` is asked for without echo."""
    secrets_: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not key:
            raise typer.BadParameter(f"{pair!r} has no key", param_hint="--secret")
        if not sep:
            value = typer.prompt(key, hide_input=True)
        secrets_[key] = value
    return secrets_


def _actor() -> Any:
    import getpass

    from ventanilla.audit.service import Actor

    try:
        who = getpass.getuser()
    except Exception:
        who = "unknown"
    return Actor(f"{CLI_ACTOR_NAME}:{who}")


def _find(session: Any, workspace_id: int, slug: str) -> Any:
    from ventanilla.ingest.channels import get_channel

    channel = get_channel(session, workspace_id=workspace_id, slug=slug)
    if channel is None:
        _fail(f"no channel {slug!r} in this workspace (see `ventanilla channels list`)")
    return channel


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else ""


@app.command("add")
def add(
    slug: Annotated[str, typer.Argument(help="Short name: lowercase letters, digits, '-' or '_'.")],
    name: Annotated[str, typer.Argument(help="Name shown to agents, e.g. 'X @AcmeAyuda'.")],
    network: Annotated[str, typer.Argument(help="x, facebook, instagram, youtube, rss, mastodon, bluesky, "
                                                "reddit, email, ...")],
    account: Annotated[str, typer.Argument(help="The account on the network, e.g. @AcmeAyuda.")] = "",
    public: Annotated[bool | None, typer.Option(
        "--public/--private", help="Public channel (mentions, comments) or private (mail, DMs only).")] = None,
    setting: Annotated[list[str] | None, typer.Option(
        "--setting", help="Connector setting KEY=VALUE; JSON lists and objects allowed (repeatable).")] = None,
    secret: SecretOpt = None,
    poll_seconds: Annotated[int, typer.Option(help="Poll every N seconds; 0 = webhooks only.")] = 300,
    workspace: WorkspaceOpt = "demo",
) -> None:
    """Add a channel; its credentials are stored encrypted and never printed back."""
    from sqlalchemy.exc import IntegrityError

    from ventanilla.db import session_scope
    from ventanilla.ingest.channels import PRIVATE_NETWORKS, ChannelError, create_channel
    from ventanilla.ingest.sync import enable_polling, pollable

    settings = parse_settings(setting or [])
    secrets_ = parse_secrets(secret or [])
    is_public = public if public is not None else network not in PRIVATE_NETWORKS
    ws_id = _workspace_id(workspace)
    actor = _actor()
    try:
        with session_scope() as session:
            channel = create_channel(session, workspace_id=ws_id, slug=slug, name=name, network=network,
                                     account=account, is_public=is_public, secrets_=secrets_,
                                     settings=settings, actor=actor)
            if poll_seconds and pollable(network):
                enable_polling(session, channel, poll_seconds=poll_seconds, actor=actor)
            channel_id = channel.id
    except ChannelError as exc:
        _fail(str(exc), 2)
        return
    except IntegrityError:
        _fail(f"a channel {slug!r} already exists in {workspace!r}", 2)
        return
    polled = f"polled every {poll_seconds} s" if poll_seconds and pollable(network) else "not polled"
    console.print(f"Channel [bold]{slug}[/bold] added ({network}, {'public' if is_public else 'private'}, "
                  f"{polled}); webhook URL: /api/v1/webhooks/{channel_id}", highlight=False)


def _health(state: Any) -> str:
    if state is None or not state.poll_seconds:
        return "not polled"
    if not state.healthy:
        return "unhealthy"
    if state.backoff_until is not None and state.backoff_until > _now():
        return "backing off"
    return "ok" if state.last_sync_at else "waiting"


def _now() -> Any:
    from ventanilla.db import utcnow

    return utcnow()


def _listener(status: dict[str, Any]) -> dict[str, Any]:
    """A push listener's status for `channels list` (see `listener_lease.push_status`)."""
    row = status["row"]

    def moment(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"state": status["state"], "held": status["held"], "stale": status["stale"],
            "process": row.process if row else None, "host": row.host if row else None,
            "pid": row.pid if row else None, "since": moment(row.since) if row else None,
            "heartbeat_at": moment(row.heartbeat_at) if row else None,
            "last_event_at": moment(row.last_event_at) if row else None,
            "reconnects": row.reconnects if row else 0, "last_error": row.last_error if row else None}


@app.command("list")
def list_(
    workspace: WorkspaceOpt = "demo",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the channels with their health, last sync, failures, last error and push listener."""
    from ventanilla.db import session_scope, utcnow
    from ventanilla.ingest.channels import list_channels
    from ventanilla.ingest.listen import wants_push
    from ventanilla.ingest.listener_lease import listener_states, push_status
    from ventanilla.ingest.sync import sync_state

    ws_id = _workspace_id(workspace)
    rows: list[dict[str, Any]] = []
    now = utcnow()
    with session_scope() as session:
        channels = list_channels(session, workspace_id=ws_id)
        listeners = listener_states(session, [channel.id for channel in channels])
        for channel in channels:
            state = sync_state(session, channel.id)
            listener = listeners.get(channel.id)
            pushes = listener is not None or wants_push(channel, state.poll_seconds if state else 0)
            rows.append({
                "slug": channel.slug, "name": channel.name, "network": channel.network,
                "account": channel.account, "public": channel.is_public, "health": _health(state),
                "poll_seconds": state.poll_seconds if state else 0,
                "last_sync_at": state.last_sync_at.isoformat() if state and state.last_sync_at else None,
                "next_sync_at": state.next_sync_at.isoformat() if state and state.next_sync_at else None,
                "backoff_until": state.backoff_until.isoformat() if state and state.backoff_until else None,
                "failures": state.failures if state else 0,
                "last_error": state.last_error if state else None,
                "webhook_url": f"/api/v1/webhooks/{channel.id}",
                "listener": _listener(push_status(listener, now)) if pushes else None,
            })
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table("channel", "network", "visibility", "health", "last sync (UTC)", "failures")
    for row in rows:
        colour = {"unhealthy": "red", "backing off": "yellow", "ok": "green"}.get(row["health"], "")
        health = f"[{colour}]{row['health']}[/{colour}]" if colour else row["health"]
        last = (row["last_sync_at"] or "")[:19].replace("T", " ")
        table.add_row(row["slug"], row["network"], "public" if row["public"] else "private", health, last,
                      str(row["failures"]))
    console.print(table)
    # Errors are long: one line each under the table rather than a squeezed column.
    for row in rows:
        if row["last_error"]:
            console.print(f"[bold]{row['slug']}[/bold] last error: {row['last_error']}", highlight=False,
                          soft_wrap=True)
        push = row["listener"]
        if push is None:
            continue
        holder = (f" by {push['process']} on {push['host']}, pid {push['pid']}, since {(push['since'] or '')[:19]}"
                  if push["held"] else "")
        seen = f"; last event {push['last_event_at'][:19]}" if push["last_event_at"] else ""
        console.print(f"[bold]{row['slug']}[/bold] push listener: {push['state']}{holder}{seen}; "
                      f"{push['reconnects']} reconnects", highlight=False, soft_wrap=True)
        if push["last_error"]:
            console.print(f"[bold]{row['slug']}[/bold] listener's last error: {push['last_error']}",
                          highlight=False, soft_wrap=True)


@app.command("test")
def test(slug: str, workspace: WorkspaceOpt = "demo") -> None:
    """Check the channel's credentials with the network; print the account name or the error."""
    from ventanilla.db import session_scope
    from ventanilla.ingest.sync import check_connection, describe_error, stored_secrets

    ws_id = _workspace_id(workspace)
    with session_scope() as session:
        channel = _find(session, ws_id, slug)
        session.expunge(channel)
    try:
        name = check_connection(channel)
    except Exception as exc:
        _fail(f"{slug}: {describe_error(exc, stored_secrets(channel))}")
        return
    console.print(f"[green]ok[/green]: {slug} reaches {channel.network} as [bold]{name}[/bold]", highlight=False)


def _print_outcomes(outcomes: list[Any], as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps([o.as_dict() for o in outcomes]))
        return
    if not outcomes:
        console.print("no channel is due")
        return
    table = Table("channel", "result", "pages", "new", "duplicate", "skipped")
    for o in outcomes:
        colour = "green" if o.status == "ok" else "yellow" if o.status in ("busy", "rate_limited") else "red"
        table.add_row(o.slug or str(o.channel_id), f"[{colour}]{o.status}[/{colour}]", str(o.pages), str(o.new),
                      str(o.duplicates), str(o.skipped))
    console.print(table)
    for o in outcomes:
        if o.error:
            console.print(f"[bold]{o.slug or o.channel_id}[/bold]: {o.error}", highlight=False, soft_wrap=True)
    console.print(f"{sum(o.new for o in outcomes)} new post(s) from {len(outcomes)} channel(s)")


@app.command("sync")
def sync(
    slug: Annotated[str | None, typer.Argument(help="One channel to poll now (default: every due one).")] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Keep polling until interrupted.")] = False,
    tick: Annotated[float, typer.Option(help="With --loop: longest sleep between rounds, in seconds.")] = 30.0,
    rounds: Annotated[int, typer.Option(help="With --loop: stop after N rounds (0 = never).", hidden=True)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    listen: Annotated[bool, typer.Option(
        "--listen/--no-listen", help="With --loop: also listen to push-capable channels (see `listen`).")] = True,
    workspace: WorkspaceOpt = "demo",
) -> None:
    """Poll channels: one by name now (even if not due), or every due channel of the workspace."""
    from ventanilla.db import get_engine, session_scope
    from ventanilla.ingest.sync import (
        Scheduler,
        default_owner,
        next_due_in,
        pollable,
        run_scheduler_once,
        sync_channel,
    )

    ws_id = _workspace_id(workspace)
    engine = get_engine()
    owner = default_owner()
    channel_id: int | None = None
    if slug is not None:
        with session_scope() as session:
            channel = _find(session, ws_id, slug)
            if not pollable(channel.network):
                _fail(f"{slug}: network {channel.network!r} cannot be polled; it receives webhooks or imports", 2)
            channel_id = channel.id
    done = 0
    outcomes: list[Any] = []
    if loop and channel_id is None:
        # The loop never waits for a slow channel: each runs on a worker thread of its own.
        scheduler = Scheduler(engine, owner=owner, workspace_id=ws_id, listen=listen)
        try:
            while True:
                outcomes = scheduler.tick()
                if outcomes:
                    _print_outcomes(outcomes, as_json)
                    done += 1
                if rounds and done >= rounds:
                    break
                with session_scope() as session:
                    wait = next_due_in(session, workspace_id=ws_id)
                # Wake often while syncs run (to collect them), else sleep until the next is due.
                nap = 0.5 if scheduler.running else min(tick, wait if wait is not None else tick)
                time.sleep(max(0.5, nap))
        except KeyboardInterrupt:
            err.print("stopped")
        finally:
            scheduler.close(wait=True)
        return
    try:
        while True:
            if channel_id is not None:
                outcomes = [sync_channel(engine, channel_id, owner=owner)]
            else:
                outcomes = run_scheduler_once(engine, owner=owner, workspace_id=ws_id)
            if outcomes or not loop:
                _print_outcomes(outcomes, as_json)
            done += 1
            if not loop or (rounds and done >= rounds):
                break
            with session_scope() as session:
                wait = next_due_in(session, workspace_id=ws_id)
            time.sleep(max(1.0, min(tick, wait if wait is not None else tick)))
    except KeyboardInterrupt:
        err.print("stopped")
    if not loop and any(o.status not in ("ok", "busy") for o in outcomes):
        raise typer.Exit(1)


@app.command("listen")
def listen_(
    slugs: Annotated[list[str] | None, typer.Argument(
        help="Channels to listen to (default: every push-capable channel of the workspace).")] = None,
    refresh: Annotated[float, typer.Option(help="Look for new or changed channels every N seconds.")] = 60.0,
    rounds: Annotated[int, typer.Option(help="Stop after N refreshes (0 = never).", hidden=True)] = 0,
    workspace: WorkspaceOpt = "demo",
) -> None:
    """Listen to networks that push (Mastodon streaming, IMAP IDLE) until interrupted.

    Each push wakes an immediate sync of its channel (same lease and cursor as polling);
    keep `channels sync --loop` (or the clock) running as the safety net. A channel is listened
    to by one process at a time: one already listened to elsewhere is left to that process.
    """
    import signal
    import threading

    from ventanilla.db import get_engine, session_scope
    from ventanilla.ingest.listen import PUSH_NETWORKS, Listeners, wants_push
    from ventanilla.ingest.sync import sync_state

    ws_id = _workspace_id(workspace)
    channel_ids: list[int] | None = None
    if slugs:
        channel_ids = []
        with session_scope() as session:
            for slug in slugs:
                channel = _find(session, ws_id, slug)
                if channel.network not in PUSH_NETWORKS:
                    _fail(f"{slug}: network {channel.network!r} does not push here "
                          f"(push-capable: {', '.join(PUSH_NETWORKS)}); poll it with `channels sync`", 2)
                state = sync_state(session, channel.id)
                if not wants_push(channel, state.poll_seconds if state else 0, named=True):
                    _fail(f"{slug}: push is turned off (setting push=false)", 2)
                channel_ids.append(channel.id)
    listeners = Listeners(get_engine(), workspace_id=ws_id, channel_ids=channel_ids)
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())  # a service manager's stop is clean too
    done = 0
    try:
        listening = listeners.refresh()
        console.print(f"listening to {', '.join(listening)}" if listening
                      else "no push-capable channel yet; looking again every "
                           f"{refresh:.0f} s", highlight=False)
        if listeners.held_elsewhere:
            # Another process (clock, serve, sync --loop) listens to these; taken over if it stops.
            console.print(f"listened to by another process: {', '.join(listeners.held_elsewhere)}",
                          highlight=False)
        while not (rounds and done >= rounds) and not stop.wait(max(0.1, refresh)):
            listeners.maybe_refresh()
            done += 1
    except KeyboardInterrupt:
        pass
    finally:
        listeners.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    err.print("stopped")


@app.command("rotate")
def rotate(
    slug: str,
    secret: SecretOpt = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Drop a credential KEY (repeatable).")] = None,
    workspace: WorkspaceOpt = "demo",
) -> None:
    """Replace some of a channel's credentials; the audit trail records which keys, never values."""
    from ventanilla.db import session_scope
    from ventanilla.ingest.channels import ChannelError
    from ventanilla.ingest.sync import rotate_secrets

    secrets_ = parse_secrets(secret or [])
    ws_id = _workspace_id(workspace)
    try:
        with session_scope() as session:
            channel = _find(session, ws_id, slug)
            keys = rotate_secrets(session, channel, secrets_, _actor(), remove=remove or [])
    except ChannelError as exc:
        _fail(str(exc), 2)
        return
    parts = [f"{label}: {', '.join(names)}" for label, names in keys.items() if names]
    console.print(f"Credentials of {slug} rotated ({'; '.join(parts) or 'no change'}).", highlight=False)
