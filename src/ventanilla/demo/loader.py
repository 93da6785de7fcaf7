"""The demo workspace: real shared data when it is beside the project, else our own sample."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from ventanilla.accounts.bootstrap import ensure_workspace, migrate_database
from ventanilla.accounts.models import Role, User
from ventanilla.accounts.service import create_user
from ventanilla.db import session_scope
from ventanilla.ingest.channels import get_or_create_channel
from ventanilla.ingest.importer import import_file
from ventanilla.ingest.schema import IncomingPost
from ventanilla.ingest.service import accept
from ventanilla.workers.pipeline import hand_over

SAMPLE = Path(__file__).with_name("sample.jsonl")
DEMO_PASSWORD = "ventanilla-demo"
DEMO_USERS = [
    ("admin@example.com", "Alba Admin", Role.admin),
    ("lead@example.com", "Lucía Lead", Role.lead),
    ("ana@example.com", "Ana Agente", Role.agent),
    ("tom@example.com", "Tom Agent", Role.agent),
    ("analyst@example.com", "Irene Analista", Role.analyst),
    ("crisis@example.com", "Carlos Crisis", Role.crisis),
]
# Shared folders that make a good demo (offensive-en is left out on purpose: it is abusive).
SHARED_FILES = [
    ("airline-tweets-en", "x-airlines-en"),
    ("airline-tweets-es", "x-aerolineas-es"),
    ("complaints-en", "x-brands-en"),
]


@dataclass(slots=True)
class DemoResult:
    admin_email: str
    password: str
    other_users: list[tuple[str, str]] = field(default_factory=list)
    posts: int = 0


def _load_sample(workspace_id: int) -> int:
    groups: dict[str, list[IncomingPost]] = defaultdict(list)
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            channel = obj.pop("channel", None) or f"{obj['network']}-demo"
            groups[channel].append(IncomingPost.model_validate(obj))
    added = 0
    for slug, posts in groups.items():
        with session_scope() as session:
            channel = get_or_create_channel(session, workspace_id=workspace_id, slug=slug,
                                            network=posts[0].network, settings={"demo": True},
                                            is_public=posts[0].network != "email")
            result = accept(session, channel=channel, posts=posts)
        hand_over(result.new_post_ids)
        added += len(result.new_post_ids)
    return added


def load_demo(shared_data: Path, *, console: Console | None = None) -> DemoResult:
    """Create the demo workspace, its users and posts. Safe to run again (adds nothing twice)."""
    say = console.print if console else (lambda *_a, **_k: None)
    migrate_database()
    with session_scope() as session:
        workspace = ensure_workspace(session, slug="demo", name="Demo", timezone="Europe/Madrid")
        workspace_id = workspace.id
        for email, name, role in DEMO_USERS:
            if session.scalar(select(User.id).where(User.email == email)) is None:
                create_user(session, email=email, name=name, password=DEMO_PASSWORD,
                            workspace=workspace, role=role)
    result = DemoResult(DEMO_USERS[0][0], DEMO_PASSWORD,
                        [(e, r.value) for e, _, r in DEMO_USERS[1:]])
    result.posts += _load_sample(workspace_id)
    found = [(folder, slug) for folder, slug in SHARED_FILES if (shared_data / folder / "dev.csv").exists()]
    if not found:
        say(f"[yellow]{shared_data} not found: loading only the shipped sample.[/yellow]")
    for folder, slug in found:
        with session_scope() as session:
            # Replies from the demo go to a stand-in network, never a real one.
            get_or_create_channel(session, workspace_id=workspace_id, slug=slug, network="x",
                                  settings={"demo": True})
        path = shared_data / folder / "dev.csv"
        say(f"loading {path} ...")
        summary = import_file(path, workspace_id=workspace_id, channel_slug=slug, network="x",
                              report_path=Path("var") / f"{folder}.rejected.csv")
        result.posts += summary.new
        say(f"  new {summary.new}, duplicate {summary.duplicate}, rejected {summary.rejected}")
    return result
