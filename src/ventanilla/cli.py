"""The `ventanilla` command: set-up, demo, web server, worker, imports, users and exports."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ventanilla.config import get_settings

app = typer.Typer(help="ventanilla: hear every public complaint, answer each one well and on time.",
                  no_args_is_help=True, rich_markup_mode="rich")
users_app = typer.Typer(help="Manage users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
export_app = typer.Typer(help="Export data (CSV or JSON).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(export_app, name="export")
app.add_typer(audit_app, name="audit")

console = Console()
err = Console(stderr=True)

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug.")]


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}")
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


@app.command()
def init(
    workspace: WorkspaceOpt = "demo",
    name: Annotated[str, typer.Option(help="The brand's name.")] = "Demo brand",
    timezone: Annotated[str, typer.Option(help="IANA time zone of the workspace.")] = "Europe/Madrid",
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.")] = "admin@example.com",
    admin_password: Annotated[str | None, typer.Option(
        help="Password for the first admin (generated and printed when omitted).",
        envvar="VENTANILLA_ADMIN_PASSWORD")] = None,
) -> None:
    """Create or upgrade the database, then make sure a workspace and a first admin exist."""
    from ventanilla.accounts.bootstrap import ensure_admin, ensure_workspace, migrate_database
    from ventanilla.accounts.service import AccountError
    from ventanilla.db import session_scope

    migrate_database()
    try:
        with session_scope() as session:
            ws = ensure_workspace(session, slug=workspace, name=name, timezone=timezone)
            admin = ensure_admin(session, workspace=ws, email=admin_email, password=admin_password)
    except AccountError as exc:
        _fail(str(exc))
        return
    console.print(f"Database ready at [bold]{_safe_url()}[/bold]; workspace [bold]{workspace}[/bold].")
    if admin.password:
        console.print(f"First admin: [bold]{admin.email}[/bold] / password [bold]{admin.password}[/bold]")
    else:
        console.print(f"Admin {admin.email} already exists; password unchanged.")


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


@app.command()
def demo(
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the web app after loading.")] = True,
    host: str = "127.0.0.1",
    port: int = 8000,
    shared_data: Annotated[Path | None, typer.Option(help="Folder of the shared data sets.")] = None,
) -> None:
    """Load the demo workspace (shared data when present, else the shipped sample) and serve it."""
    from ventanilla.demo.loader import load_demo

    result = load_demo(shared_data or get_settings().shared_data, console=console)
    console.rule("[bold green]ventanilla demo ready")
    console.print(f"Open http://{host}:{port}/ and sign in as [bold]{result.admin_email}[/bold] "
                  f"with password [bold]{result.password}[/bold]")
    for email, role in result.other_users:
        console.print(f"  also: {email} ({role}), same password")
    if serve_after:
        serve(host=host, port=port, workers=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web processes (stateless; use PostgreSQL for >1).")] = 1,
) -> None:
    """Serve the web app and the REST API (OpenAPI at /api/docs)."""
    import uvicorn

    uvicorn.run("ventanilla.web.app:create_app", factory=True, host=host, port=port,
                workers=workers, proxy_headers=True, log_level="info")


@app.command()
def clock() -> None:
    """Run the periodic jobs (search index, SLA alerts, outbox retries, polling, crisis, follow-ups).

    Run one per installation when background work goes to Celery workers; without a broker,
    `ventanilla serve` already runs them in a background thread.
    """
    from ventanilla.workers.clock import JOBS, run_forever

    for job in JOBS:
        console.print(f"{job.task:<16} every {job.every_seconds:.0f} s")
    try:
        run_forever()
    except KeyboardInterrupt:
        console.print("stopped")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Parallel tasks in this worker.")] = 1,
) -> None:
    """Run a Celery worker for background tasks (needs VENTANILLA_BROKER_URL)."""
    broker = get_settings().broker_url
    if not broker:
        _fail("VENTANILLA_BROKER_URL is not set: without a broker, tasks already run in-process")
        return
    from ventanilla.workers.celery_app import make_celery

    make_celery(broker).worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}",
                                     "--pool=prefork" if concurrency > 1 else "--pool=solo"])


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(help="A .csv (shared data's columns) or .jsonl (native schema) file.")],
    workspace: WorkspaceOpt = "demo",
    channel: Annotated[str, typer.Option(help="Channel slug the posts arrived on (created if new).")] = "import",
    network: Annotated[str, typer.Option(help="Network of the posts: x, facebook, instagram, ...")] = "x",
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="Column mapping FIELD=COLUMN, e.g. --map text=body (repeatable).")] = None,
    encoding: Annotated[str | None, typer.Option(help="File encoding when not UTF-8 (e.g. latin-1).")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the file name).")] = None,
    report: Annotated[Path | None, typer.Option(
        help="Where to write rejected lines (default FILE.rejected.csv).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Import posts from a file. Idempotent: importing the same file twice adds nothing.

    Prints counts of new, duplicate and rejected posts; rejected lines go to a report file
    with their line number and reason, and the good lines still go in.
    """
    from ventanilla.ingest.files import FileError, parse_mapping
    from ventanilla.ingest.importer import count_lines, import_file

    try:
        mapping = parse_mapping(map_ or [])
    except FileError as exc:
        _fail(str(exc), 2)
        return
    ws_id = _workspace_id(workspace)
    total = count_lines(file) if file.exists() else 0
    try:
        if as_json or not sys.stderr.isatty():
            summary = import_file(file, workspace_id=ws_id, channel_slug=channel, network=network,
                                  mapping=mapping, encoding=encoding, fmt=fmt, report_path=report)
        else:
            with Progress(TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(),
                          TimeRemainingColumn(), console=err) as progress:
                bar = progress.add_task("import", total=total)
                summary = import_file(file, workspace_id=ws_id, channel_slug=channel, network=network,
                                      mapping=mapping, encoding=encoding, fmt=fmt, report_path=report,
                                      progress=lambda n: progress.advance(bar, n))
    except FileError as exc:
        _fail(str(exc))
        return
    if as_json:
        console.print_json(json.dumps(summary.as_dict()))
        return
    console.print(f"new: {summary.new}  duplicate: {summary.duplicate}  rejected: {summary.rejected}")
    if summary.unknown_columns:
        console.print(f"kept as raw data (not mapped): {', '.join(summary.unknown_columns)}")
    if summary.report:
        console.print(f"rejected lines and reasons: {summary.report}")


@users_app.command("add")
def users_add(
    email: str,
    name: Annotated[str, typer.Option(help="Full name (the first name signs replies).")],
    role: Annotated[str, typer.Option(help="admin, lead, agent, crisis or analyst.")] = "agent",
    workspace: WorkspaceOpt = "demo",
    password: Annotated[str | None, typer.Option(
        help="Password (prompted when omitted).", envvar="VENTANILLA_NEW_PASSWORD")] = None,
    languages: Annotated[str, typer.Option(help="Languages the user answers in, comma-separated.")] = "es,en",
) -> None:
    """Add a user with a role in a workspace."""
    from ventanilla.accounts.models import Role
    from ventanilla.accounts.service import AccountError, create_user, get_workspace
    from ventanilla.db import session_scope

    if role not in {r.value for r in Role}:
        _fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", 2)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope() as session:
            ws = get_workspace(session, slug=workspace)
            if ws is None:
                _fail(f"no workspace {workspace!r}")
                return
            create_user(session, email=email, name=name, password=password, workspace=ws,
                        role=Role(role), languages=[x.strip() for x in languages.split(",") if x.strip()])
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"User {email} added as {role}.")


@users_app.command("set-role")
def users_set_role(email: str, role: str, workspace: WorkspaceOpt = "demo") -> None:
    """Change a user's role in a workspace."""
    from ventanilla.accounts.models import Role
    from ventanilla.accounts.service import AccountError, get_workspace, set_role
    from ventanilla.db import session_scope

    if role not in {r.value for r in Role}:
        _fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", 2)
    try:
        with session_scope() as session:
            ws = get_workspace(session, slug=workspace)
            if ws is None:
                _fail(f"no workspace {workspace!r}")
                return
            set_role(session, email=email, workspace=ws, role=Role(role))
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"{email} is now {role} in {workspace}.")


@users_app.command("list")
def users_list(workspace: WorkspaceOpt = "demo") -> None:
    """List the workspace's users and roles."""
    from ventanilla.accounts.service import members
    from ventanilla.db import session_scope

    ws_id = _workspace_id(workspace)
    table = Table("e-mail", "name", "role", "languages")
    with session_scope() as session:
        for user, membership in members(session, workspace_id=ws_id):
            table.add_row(user.email, user.name, membership.role, ",".join(membership.languages))
    console.print(table)


@tokens_app.command("create")
def tokens_create(email: str, name: Annotated[str, typer.Option(help="What the token is for.")] = "cli") -> None:
    """Create a personal API token (shown once; only its hash is stored)."""
    from sqlalchemy import select

    from ventanilla.accounts.models import User
    from ventanilla.accounts.service import create_api_token
    from ventanilla.db import session_scope

    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == email.lower()))
        if user is None:
            _fail(f"no user {email}")
            return
        token = create_api_token(session, user=user, name=name)
    console.print(token)


@export_app.command("cases")
def export_cases(
    workspace: WorkspaceOpt = "demo",
    format_: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: standard output).")] = None,
) -> None:
    """Export every case with its author, channel, status and times."""
    from ventanilla.cases.export import write_cases
    from ventanilla.db import session_scope

    if format_ not in {"csv", "json"}:
        _fail("--format must be csv or json", 2)
    ws_id = _workspace_id(workspace)
    handle = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        with session_scope() as session:
            count = write_cases(session, workspace_id=ws_id, fmt=format_, out=handle)
    finally:
        if output:
            handle.close()
    if output:
        console.print(f"{count} cases written to {output}")


@export_app.command("corrections")
def export_corrections(
    workspace: WorkspaceOpt = "demo",
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV to write (text,label,value).")] = Path(
        "corrections.csv"),
) -> None:
    """Export agents' label corrections for `ventanilla triage train --with-corrections FILE`."""
    import csv

    from ventanilla.db import session_scope
    from ventanilla.triage.service import corrections

    ws_id = _workspace_id(workspace)
    with session_scope() as session, output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "value"])
        rows = corrections(session, workspace_id=ws_id)
        for c in rows:
            writer.writerow([c.text, c.label, c.new_value])
    console.print(f"{len(rows)} corrections written to {output}")


@export_app.command("dossier")
def export_dossier(
    case_id: Annotated[int, typer.Argument(help="The case's number.")],
    format_: Annotated[str, typer.Option("--format", help="json or pdf.")] = "json",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (default: JSON to standard output, PDF to case-ID-dossier.pdf).")] = None,
) -> None:
    """Export one case's dossier: the whole audited timeline, conversation, notes and resolution."""
    from ventanilla.cases.dossier import dossier_json, dossier_pdf
    from ventanilla.cases.models import Case
    from ventanilla.db import session_scope

    if format_ not in {"json", "pdf"}:
        _fail("--format must be json or pdf", 2)
    with session_scope() as session:
        case = session.get(Case, case_id)
        if case is None:
            _fail(f"no case {case_id}")
            raise AssertionError
        if format_ == "json":
            text = dossier_json(session, case=case)
            if output is None:
                sys.stdout.write(text + "\n")
                return
            output.write_text(text + "\n", encoding="utf-8")
        else:
            output = output or Path(f"case-{case_id}-dossier.pdf")
            output.write_bytes(dossier_pdf(session, case=case))
    console.print(f"dossier of case {case_id} written to {output}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain. Exit 0 with the count when it holds; exit 1 naming the first broken event."""
    from ventanilla.audit.service import verify
    from ventanilla.db import session_factory

    # A read-only session: on SQLite it does not hold the write lock while the chain is read.
    with session_factory(readonly=True)() as session:
        result = verify(session)
    if result.ok:
        console.print(f"audit chain holds: {result.checked} events checked")
        return
    console.print(f"audit chain BROKEN at event {result.broken_id}: {result.reason} "
                  f"({result.checked} events checked before it)")
    raise typer.Exit(1)


def _mount_domain_clis() -> None:
    for name, module in (("triage", "ventanilla.triage.cli"), ("replies", "ventanilla.replies.cli"),
                         ("crisis", "ventanilla.crisis.cli"), ("channels", "ventanilla.ingest.channels_cli"),
                         ("sla", "ventanilla.sla.cli")):
        try:
            sub = __import__(module, fromlist=["app"]).app
        except ImportError:
            continue
        app.add_typer(sub, name=name)


_mount_domain_clis()


def main() -> None:
    """Entry point of the `ventanilla` script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
