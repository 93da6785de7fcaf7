"""Workspaces, users, roles, sign-in and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ventanilla.accounts.models import (
    ApiToken,
    LoginAttempt,
    Membership,
    Role,
    Team,
    TeamMember,
    User,
    Workspace,
)
from ventanilla.accounts.passwords import hash_password, verify_password
from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.db import utcnow

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10

# What each role may do; a route names the capability it needs, never a list of roles.
CAPABILITIES: dict[str, frozenset[Role]] = {
    "read_inbox": frozenset({Role.admin, Role.lead, Role.agent, Role.analyst, Role.crisis}),
    "work_cases": frozenset({Role.admin, Role.lead, Role.agent}),
    "lead": frozenset({Role.admin, Role.lead}),
    "admin": frozenset({Role.admin}),
    "export": frozenset({Role.admin, Role.lead, Role.analyst}),
    "crisis_room": frozenset({Role.admin, Role.lead, Role.crisis}),
}


class AccountError(ValueError):
    """A user or workspace request that cannot be carried out, with the reason."""


class LoginThrottled(AccountError):
    """Too many failed sign-ins for this address or client in the window."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in user as routes see them: who, where, and with which role."""

    user_id: int
    name: str
    email: str
    workspace_id: int
    workspace_slug: str
    role: Role
    language: str

    @property
    def actor(self) -> Actor:
        return Actor(self.email, self.user_id)

    def can(self, capability: str) -> bool:
        """True when this user's role grants ``capability``."""
        return self.role in CAPABILITIES[capability]


def create_workspace(
    session: Session, *, slug: str, name: str, timezone: str = "Europe/Madrid",
    languages: list[str] | None = None, actor: Actor = SYSTEM,
) -> Workspace:
    """Create a brand's workspace."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", slug):
        raise AccountError("workspace slug must be lowercase letters, digits and dashes")
    workspace = Workspace(slug=slug, name=name, timezone=timezone, languages=languages or ["es", "en"])
    session.add(workspace)
    session.flush()
    record(session, actor, "workspace.created", target_type="workspace", target_id=workspace.id,
           workspace_id=workspace.id, after={"slug": slug, "name": name})
    return workspace


def get_workspace(session: Session, *, slug: str) -> Workspace | None:
    """The workspace with ``slug``, if any."""
    return session.scalar(select(Workspace).where(Workspace.slug == slug))


def create_user(
    session: Session, *, email: str, name: str, password: str, workspace: Workspace,
    role: Role, languages: list[str] | None = None, actor: Actor = SYSTEM,
) -> User:
    """Create a user with a role in ``workspace``; the password is stored argon2-hashed."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccountError(f"not an e-mail address: {email!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password must have at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(email=email, name=name.strip() or email, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role(role).value,
                           languages=languages or list(workspace.languages)))
    record(session, actor, "user.created", target_type="user", target_id=user.id,
           workspace_id=workspace.id, after={"email": email, "role": Role(role).value})
    return user


def set_role(session: Session, *, email: str, workspace: Workspace, role: Role,
             actor: Actor = SYSTEM) -> Membership:
    """Give a user ``role`` in ``workspace`` (adding them to it if needed)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with e-mail {email}")
    membership = session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.workspace_id == workspace.id))
    before = {"role": membership.role} if membership else None
    if membership is None:
        membership = Membership(workspace_id=workspace.id, user_id=user.id, role=Role(role).value)
        session.add(membership)
    else:
        membership.role = Role(role).value
    session.flush()
    record(session, actor, "user.role_changed", target_type="user", target_id=user.id,
           workspace_id=workspace.id, before=before, after={"role": Role(role).value})
    return membership


def _throttle_keys(email: str, client: str) -> list[str]:
    return [f"email:{email}", f"client:{client}"]


def authenticate(
    session: Session, *, email: str, password: str, client: str, max_failures: int, window_seconds: int,
) -> User | None:
    """Check a sign-in. Returns the user, None for bad credentials; raises LoginThrottled."""
    email = email.strip().lower()
    since = utcnow() - timedelta(seconds=window_seconds)
    keys = _throttle_keys(email, client)
    counts = dict(session.execute(
        select(LoginAttempt.key, func.count()).where(LoginAttempt.key.in_(keys), LoginAttempt.at >= since)
        .group_by(LoginAttempt.key)
    ).all())
    # One address is locked after max_failures; one client (IP) after more, since an office
    # or a NAT shares it between colleagues.
    if counts.get(keys[0], 0) >= max_failures or counts.get(keys[1], 0) >= 4 * max_failures:
        raise LoginThrottled("too many failed sign-ins; wait a few minutes and try again")
    user = session.scalar(select(User).where(User.email == email, User.is_active.is_(True)))
    if user is None or not verify_password(user.password_hash if user else None, password):
        session.add_all([LoginAttempt(key=key) for key in keys])
        return None
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == keys[0]))
    user.last_login_at = utcnow()
    return user


def principal_for(session: Session, *, user_id: int, workspace_slug: str | None = None) -> Principal | None:
    """The user's principal in the given (or their first) workspace; None if they have none."""
    stmt = (
        select(User, Membership, Workspace)
        .join(Membership, Membership.user_id == User.id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(User.id == user_id, User.is_active.is_(True))
        .order_by(Membership.id)
    )
    if workspace_slug:
        stmt = stmt.where(Workspace.slug == workspace_slug)
    row = session.execute(stmt).first()
    if row is None:
        return None
    user, membership, workspace = row
    return Principal(user.id, user.name, user.email, workspace.id, workspace.slug,
                     Role(membership.role), user.language or "")


def create_api_token(session: Session, *, user: User, name: str, actor: Actor = SYSTEM) -> str:
    """Create a personal API token and return it once; only its hash is kept."""
    token = "vt_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, prefix=token[:10],
                         token_hash=hashlib.sha256(token.encode()).hexdigest()))
    record(session, actor, "api_token.created", target_type="user", target_id=user.id,
           after={"name": name, "prefix": token[:10]})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user an API token belongs to, or None."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None)))
    if api_token is None:
        return None
    api_token.last_used_at = utcnow()
    return session.scalar(select(User).where(User.id == api_token.user_id, User.is_active.is_(True)))


def members(session: Session, *, workspace_id: int) -> list[tuple[User, Membership]]:
    """The workspace's users with their memberships, by name."""
    rows = session.execute(
        select(User, Membership).join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id).order_by(User.name)
    ).all()
    return [(u, m) for u, m in rows]


def create_team(session: Session, *, workspace: Workspace, name: str, member_ids: list[int],
                lead_user_id: int | None = None, actor: Actor = SYSTEM) -> Team:
    """Create a team with its members."""
    team = Team(workspace_id=workspace.id, name=name, lead_user_id=lead_user_id)
    session.add(team)
    session.flush()
    session.add_all([TeamMember(team_id=team.id, user_id=uid) for uid in member_ids])
    record(session, actor, "team.created", target_type="team", target_id=team.id,
           workspace_id=workspace.id, after={"name": name, "members": member_ids})
    return team
