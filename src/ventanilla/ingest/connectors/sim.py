"""A simulated network ("sim"): replies are POSTed to a local HTTP endpoint.

Used by the tests and the demo to exercise the outbox end to end without a real network. The
endpoint (``base_url`` in the channel's settings) speaks a tiny, documented protocol:

- ``POST {base_url}/replies`` with the header ``Idempotency-Key`` and a JSON body
  ``{"text", "in_reply_to", "thread", "private", "recipient"}``; the answer is
  ``{"id": "...", "url": "..."}`` (200 or 201). The same key twice must answer the same id and
  post nothing new, as real networks that take an idempotency key do.
- ``GET {base_url}/replies/by-key/{key}`` answers ``{"id", "url"}`` when a reply with that key
  was received, 404 when none was. The outbox asks this after a crash (``find_sent``) so an
  interrupted send is confirmed rather than repeated.
- ``GET {base_url}/me`` answers ``{"account": "..."}`` (the connection test).

Errors follow HTTP as every connector here does: 429 waits, 5xx retries, 401/403 stop.
Settings: ``timeout`` (seconds, default 10), ``confirm`` (default true; false makes
``find_sent`` refuse, like a network that cannot look a reply up). No credentials; a
``token`` credential, when given, is sent as a bearer token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from ventanilla.ingest.connectors.base import ConnectorError, FetchResult, OutgoingReply, SentReceipt
from ventanilla.ingest.connectors.http import raise_for_status

NETWORK = "sim"


class SimConnector:
    """The simulated network's connector (``Connector``): send, confirm, test; nothing to fetch."""

    network = NETWORK

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any] | None = None,
        base_url: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        url = base_url or settings.get("base_url") or settings.get("endpoint")
        if not url:
            raise ConnectorError("the sim channel needs base_url (the simulator's address)", retryable=False)
        self.base_url = str(url).rstrip("/")
        self.confirm = bool(settings.get("confirm", True))
        token = (credentials or {}).get("token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = http or httpx.Client(timeout=float(settings.get("timeout") or 10), headers=headers)

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.TimeoutException as exc:
            # The request may have arrived: retrying is safe only because of the idempotency key.
            raise ConnectorError(f"sim: no answer in time: {exc!r}", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise ConnectorError(f"sim: unreachable: {exc!r}", retryable=True) from exc

    def fetch(self, cursor: str | None) -> FetchResult:
        """The simulator pushes nothing to read: always an empty page."""
        return FetchResult(posts=[], cursor=cursor)

    def send(self, reply: OutgoingReply) -> SentReceipt:
        """POST the reply with its idempotency key; the simulator never posts a key twice."""
        body = {"text": reply.text, "in_reply_to": reply.in_reply_to_external_id,
                "thread": reply.thread_external_id, "private": reply.private,
                "recipient": reply.recipient_handle}
        response = self._request("POST", "/replies", json=body,
                                 headers={"Idempotency-Key": reply.idempotency_key})
        raise_for_status(response.status_code, response.headers, response.text)
        return self._receipt(response)

    def find_sent(self, idempotency_key: str) -> SentReceipt | None:
        """The receipt of a reply sent under ``idempotency_key``, or None if the network has none.

        Raises ``ConnectorError`` when the network cannot tell (``confirm`` off, or an error).
        """
        if not self.confirm:
            raise ConnectorError("sim: this endpoint cannot look replies up", retryable=False)
        response = self._request("GET", f"/replies/by-key/{quote(idempotency_key, safe='')}")
        if response.status_code == 404:
            return None
        raise_for_status(response.status_code, response.headers, response.text)
        return self._receipt(response)

    @staticmethod
    def _receipt(response: httpx.Response) -> SentReceipt:
        try:
            data = response.json()
            return SentReceipt(external_id=str(data["id"]), url=data.get("url"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(f"sim: unreadable answer: {response.text[:200]!r}", retryable=False) from exc

    def test(self) -> str:
        """Ask the simulator who we are."""
        response = self._request("GET", "/me")
        raise_for_status(response.status_code, response.headers, response.text)
        return str(response.json().get("account", "sim"))
