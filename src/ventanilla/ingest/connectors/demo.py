"""The demo's stand-in for every network: replies are accepted and given a local id.

`ventanilla demo` marks its channels with ``{"demo": true}`` so that an agent trying the desk
can send replies and see them in the conversation, without credentials and without any
network being called. Nothing is fetched: the demo's posts come from files.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ventanilla.ingest.connectors.base import FetchResult, OutgoingReply, SentReceipt


class DemoConnector:
    """Accepts every reply (idempotently: the same key gets the same id)."""

    def __init__(self, network: str, settings: dict[str, Any] | None = None):
        self.network = network
        self.settings = settings or {}

    def fetch(self, cursor: str | None) -> FetchResult:
        """Nothing to fetch in the demo."""
        return FetchResult(posts=[], cursor=cursor)

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """Accept the reply; its id derives from the idempotency key, so a retry is the same reply."""
        digest = hashlib.sha256(reply.idempotency_key.encode()).hexdigest()[:16]
        return SentReceipt(external_id=f"demo-{digest}")

    def test(self) -> str:
        """The demo account."""
        return f"demo ({self.network})"
