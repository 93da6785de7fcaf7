"""Channels: creating them, finding them, and checking what their webhooks sign."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ventanilla.audit.service import SYSTEM, Actor, record
from ventanilla.ingest.models import Channel
from ventanilla.vault import seal, unseal

NETWORKS = ("x", "facebook", "instagram", "youtube", "mastodon", "bluesky", "reddit",
            "email", "rss", "linkedin", "web", "sim")
PRIVATE_NETWORKS = ("email",)


class ChannelError(ValueError):
    """A channel request that cannot be carried out."""


def create_channel(
    session: Session, *, workspace_id: int, slug: str, name: str, network: str,
    account: str = "", is_public: bool = True, secrets_: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None, actor: Actor = SYSTEM,
) -> Channel:
    """Create a channel; a webhook secret is generated when none is given."""
    if network not in NETWORKS:
        raise ChannelError(f"unknown network {network!r}; one of: {', '.join(NETWORKS)}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", slug):
        raise ChannelError("channel slug must be lowercase letters, digits, '-' or '_'")
    stored = dict(secrets_ or {})
    stored.setdefault("webhook_secret", secrets.token_urlsafe(32))
    channel = Channel(workspace_id=workspace_id, slug=slug, name=name, network=network,
                      account=account, is_public=is_public, secrets_encrypted=seal(stored),
                      settings=settings or {})
    session.add(channel)
    session.flush()
    record(session, actor, "channel.created", target_type="channel", target_id=channel.id,
           workspace_id=workspace_id,
           after={"slug": slug, "network": network, "account": account, "public": is_public})
    return channel


def get_channel(session: Session, *, workspace_id: int, slug: str) -> Channel | None:
    """The workspace's channel called ``slug``."""
    return session.scalar(select(Channel).where(Channel.workspace_id == workspace_id,
                                                Channel.slug == slug))


def get_or_create_channel(session: Session, *, workspace_id: int, slug: str, network: str,
                          is_public: bool = True, settings: dict[str, Any] | None = None) -> Channel:
    """The channel ``slug``, created with defaults on first use (file imports)."""
    channel = get_channel(session, workspace_id=workspace_id, slug=slug)
    if channel is None:
        channel = create_channel(session, workspace_id=workspace_id, slug=slug,
                                 name=slug.replace("-", " ").title(), network=network,
                                 is_public=is_public, settings=settings)
    return channel


def list_channels(session: Session, *, workspace_id: int) -> list[Channel]:
    """The workspace's channels by name."""
    return list(session.scalars(select(Channel).where(Channel.workspace_id == workspace_id)
                                .order_by(Channel.name)))


def webhook_secret(channel: Channel) -> str:
    """The channel's webhook signing secret (decrypted)."""
    return str(unseal(channel.secrets_encrypted).get("webhook_secret", ""))


def sign(secret: str, body: bytes) -> str:
    """The ``sha256=<hex>`` signature a sender puts in ``X-Ventanilla-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(channel: Channel, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a delivery's HMAC-SHA256 signature."""
    secret = webhook_secret(channel)
    if not signature or not secret:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip())
