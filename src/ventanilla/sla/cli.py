"""`ventanilla sla ...`: recompute every running SLA clock (for cron), list and add policies."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="SLA clocks, policies and alerts.", no_args_is_help=True)
policies_app = typer.Typer(help="The promises each kind of case gets.", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
console = Console()

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug.")]


def _workspace_id(slug: str) -> int:
    from ventanilla.accounts.service import get_workspace
    from ventanilla.db import session_scope

    with session_scope() as session:
        workspace = get_workspace(session, slug=slug)
        if workspace is None:
            console.print(f"[red]error:[/red] no workspace {slug!r}")
            raise typer.Exit(1)
        return workspace.id


@app.command()
def recompute(
    deliver: Annotated[bool, typer.Option(help="Send pending alerts by e-mail and webhook afterwards.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    every: Annotated[bool, typer.Option("--all", help="Recompute every running clock, not only those due "
                                                      "for a check.")] = False,
) -> None:
    """Refresh every running SLA clock, raise at-risk and breach alerts (once each), deliver them.

    Run it every minute from cron or a scheduler; runs may overlap safely.
    """
    import ventanilla.all_models  # noqa: F401
    from ventanilla.db import session_scope, utcnow
    from ventanilla.sla.alerts import DeliveryReport, deliver_pending_alerts
    from ventanilla.sla.service import recompute_open_cases

    with session_scope() as session:
        result = recompute_open_cases(session, utcnow(), full=every)
    report = deliver_pending_alerts() if deliver else DeliveryReport()
    data = {"clocks_read": result.cases, "changed": result.changed, "alerts": len(result.alerts),
            "escalated": len(result.escalated_cases), "seconds": round(result.seconds, 3),
            "emails": report.emails, "webhooks": report.webhooks, "failures": report.failures}
    if as_json:
        print(json.dumps(data))
    else:
        console.print(f"{data['clocks_read']} clocks read in {data['seconds']} s: {data['changed']} changed, "
                      f"{data['alerts']} new alerts ({data['escalated']} escalated); "
                      f"{data['emails']} e-mails, {data['webhooks']} webhooks sent")


@policies_app.command("list")
def policies_list(workspace: WorkspaceOpt = "demo",
                  as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The workspace's policies, in the order they are matched."""
    from ventanilla.db import session_scope
    from ventanilla.sla.service import list_policies

    workspace_id = _workspace_id(workspace)
    with session_scope() as session:
        policies = list_policies(session, workspace_id=workspace_id)
        rows = [{"id": p.id, "position": p.position, "name": p.name, "priority": p.priority,
                 "channel_id": p.channel_id, "first_response_minutes": p.first_response_minutes,
                 "next_response_minutes": p.next_response_minutes, "resolution_minutes": p.resolution_minutes}
                for p in policies]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("id", "position", "name", "priority", "channel", "first response", "next response", "resolution")
    for r in rows:
        table.add_row(*(("any" if r[k] is None and k in ("priority", "channel_id") else
                         "-" if r[k] is None else str(r[k])) for k in r))
    console.print(table)


@policies_app.command("add")
def policies_add(
    name: Annotated[str, typer.Argument(help="What the policy is for, e.g. 'Urgent on X'.")],
    workspace: WorkspaceOpt = "demo",
    priority: Annotated[int | None, typer.Option(help="Only cases of this priority (1-4); any if left out.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only cases on this channel (slug); any if left out.")] = None,
    first_response: Annotated[int | None, typer.Option(help="Business minutes to the first reply.")] = None,
    next_response: Annotated[int | None, typer.Option(help="Business minutes to each later reply.")] = None,
    resolution: Annotated[int | None, typer.Option(help="Business minutes to resolution.")] = None,
    position: Annotated[int | None, typer.Option(help="Matching order (lower first); last if left out.")] = None,
) -> None:
    """Add a policy. The first policy whose priority and channel match a new case is its promise."""
    from sqlalchemy import select

    from ventanilla.audit.service import Actor
    from ventanilla.db import session_scope
    from ventanilla.ingest.models import Channel
    from ventanilla.sla.service import PolicyInput, SlaError, add_policy

    workspace_id = _workspace_id(workspace)
    with session_scope() as session:
        channel_id = None
        if channel:
            channel_id = session.scalar(select(Channel.id).where(Channel.workspace_id == workspace_id,
                                                                 Channel.slug == channel))
            if channel_id is None:
                console.print(f"[red]error:[/red] no channel {channel!r}")
                raise typer.Exit(1)
        try:
            policy = add_policy(session, workspace_id=workspace_id, actor=Actor("cli"), data=PolicyInput(
                name=name, priority=priority, channel_id=channel_id, first_response_minutes=first_response,
                next_response_minutes=next_response, resolution_minutes=resolution, position=position))
        except SlaError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
        console.print(f"policy {policy.id} added at position {policy.position}")
