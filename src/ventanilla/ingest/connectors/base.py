"""What every connector provides. Connectors know the network; they never touch the database.

The channel service (``ingest.channels``) persists cursors, credentials and health, calls
``fetch`` on a schedule, hands the posts to ``ingest.service.accept`` and sends the outbox
through ``send``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ventanilla.ingest.schema import IncomingPost


@dataclass(slots=True)
class Skipped:
    """An item the network gave that could not be normalised, with the reason (logged)."""

    raw: Any
    reason: str


@dataclass(slots=True)
class FetchResult:
    """One page of new items. Persist ``cursor`` only after ``posts`` are accepted."""

    posts: list[IncomingPost]
    cursor: str | None
    more: bool = False
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutgoingReply:
    """A reply to send. ``idempotency_key`` is stable across retries of the same reply."""

    idempotency_key: str
    text: str
    in_reply_to_external_id: str | None
    private: bool = False
    recipient_handle: str | None = None
    thread_external_id: str | None = None


@dataclass(frozen=True, slots=True)
class SentReceipt:
    """What the network answered for a sent reply."""

    external_id: str
    url: str | None = None


class ConnectorError(Exception):
    """A failure talking to the network. ``retryable`` says whether backing off may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class AuthError(ConnectorError):
    """Wrong, expired or revoked credentials: retrying will not help until they are rotated.

    ``status`` is the HTTP status when one said so (401: the token itself was refused, which a
    connector holding a refresh token may cure by renewing it; 403: a missing permission).
    """

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message, retryable=False)
        self.status = status


class RateLimited(ConnectorError):
    """The network asked us to wait ``retry_after`` seconds (from its headers)."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, retryable=True, retry_after=retry_after)


class Connector(Protocol):
    """A network connector, built from the channel's settings and decrypted credentials."""

    network: str

    def fetch(self, cursor: str | None) -> FetchResult:
        """Return the next page of items newer than ``cursor`` (None: first sync)."""
        ...

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Send ``reply``; sending the same idempotency key twice must not post twice."""
        ...

    def test(self) -> str:
        """Check the credentials and return the account name the network knows them by."""
        ...


class WebhookReceiver(Protocol):
    """A connector that also receives the network's push deliveries."""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True when the delivery's signature matches the channel's secret."""
        ...

    def parse_webhook(self, body: bytes) -> FetchResult:
        """Normalise a verified delivery (cursor is None: webhooks do not move it)."""
        ...


class CredentialStore(Protocol):
    """Where a connector that renews its own tokens keeps them (the channel's encrypted secrets).

    ``save`` is called at once after a refresh with only the keys that changed (never logged);
    ``load`` returns what is stored now, so a connector whose refresh token was refused can
    see whether another worker already rotated it.
    """

    def save(self, changed: Mapping[str, str]) -> None:
        """Merge ``changed`` into the stored credentials, re-encrypted."""
        ...

    def load(self) -> dict[str, Any]:
        """The credentials as stored now."""
        ...
