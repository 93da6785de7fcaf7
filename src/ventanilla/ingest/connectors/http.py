"""HTTP answers turned into the connector errors the channel scheduler understands."""

from __future__ import annotations

import time
from collections.abc import Mapping

from ventanilla.ingest.connectors.base import AuthError, ConnectorError, RateLimited

DEFAULT_RETRY_AFTER = 60.0


def retry_after_from_headers(headers: Mapping[str, str], *, now: float | None = None) -> float:
    """Seconds to wait, from Retry-After or the x-rate-limit-reset / ratelimit-reset headers.

    Networks disagree on the header: X sends an epoch in ``x-rate-limit-reset``, Mastodon an
    ISO time in ``X-RateLimit-Reset``, Reddit seconds in ``x-ratelimit-reset``, others a plain
    ``Retry-After``. Epochs and seconds are told apart by size.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    for name in ("retry-after", "x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        value = lowered.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            from datetime import datetime

            try:
                number = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
        seconds = number - now if number > 1_000_000_000 else number
        return max(0.0, seconds)
    return DEFAULT_RETRY_AFTER


def raise_for_status(status: int, headers: Mapping[str, str], body: str = "") -> None:
    """Raise the connector error that an HTTP status means; return quietly on 2xx/3xx."""
    if status < 400:
        return
    snippet = body[:300]
    if status in (401, 403):
        raise AuthError(f"HTTP {status}: credentials refused: {snippet}", status=status)
    if status == 429:
        raise RateLimited(f"HTTP 429: rate limited: {snippet}", retry_after_from_headers(headers))
    if status >= 500 or status == 408:
        raise ConnectorError(f"HTTP {status}: network error: {snippet}", retryable=True)
    raise ConnectorError(f"HTTP {status}: request refused: {snippet}", retryable=False)
