"""First run: schema up to date, a workspace, and a first admin."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import Role, User, Workspace
from ventanilla.accounts.service import create_user, create_workspace, get_workspace
from ventanilla.config import get_settings
from ventanilla.migrate import upgrade


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    email: str
    password: str | None  # None when the admin already existed


def migrate_database(url: str | None = None) -> None:
    """Create or upgrade the configured database to the newest schema."""
    upgrade(url or get_settings().database_url)


def ensure_workspace(session: Session, *, slug: str, name: str, timezone: str) -> Workspace:
    """The workspace ``slug``, created if missing."""
    return get_workspace(session, slug=slug) or create_workspace(
        session, slug=slug, name=name, timezone=timezone)


def ensure_admin(session: Session, *, workspace: Workspace, email: str,
                 password: str | None = None, name: str = "Admin") -> FirstAdmin:
    """Create the first admin unless that user exists; a password is generated if not given."""
    if session.scalar(select(User.id).where(User.email == email.lower())) is not None:
        return FirstAdmin(email.lower(), None)
    password = password or secrets.token_urlsafe(12)
    create_user(session, email=email, name=name, password=password, workspace=workspace,
                role=Role.admin)
    return FirstAdmin(email.lower(), password)
