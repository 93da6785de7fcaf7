"""OAuth 2.0 access tokens renewed with their refresh token (RFC 6749 section 6).

Used by the connectors whose networks hand out short-lived user tokens: X API v2 (OAuth 2.0
user context, two hours, refresh tokens rotate on every use) and YouTube (Google, one hour).
Neither network's maintained SDK fits here (see ``docs/connectors.md``), so the refresh is the
same plain form POST every OAuth 2.0 server takes.

The refresher shares the connector's ``credentials`` dict and changes it in place, so the
connector's next request carries the new token. The new values go to the channel's encrypted
store at once (``CredentialStore.save``), before the failed request is retried: a refresh
token that rotates is never held only in memory. Token values are never put in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from ventanilla.ingest.connectors.base import AuthError, ConnectorError, CredentialStore, RateLimited
from ventanilla.ingest.connectors.http import retry_after_from_headers

EARLY_SECONDS = 60.0  # renew a token this long before the expiry the server announced
T = TypeVar("T")


class OAuth2Refresh:
    """Keeps ``credentials["access_token"]`` valid with ``refresh_token`` and ``client_id``.

    ``client_auth``: ``"basic"`` sends the client id and secret as HTTP Basic (RFC 6749
    2.3.1; X for confidential clients), ``"body"`` as form fields (Google; X public clients,
    which have no secret). ``store`` returns where to save renewed tokens (None: memory only).
    """

    def __init__(
        self, *, network: str, http: httpx.Client, token_url: str, credentials: dict[str, Any],
        client_auth: str = "body", store: Callable[[], CredentialStore | None] = lambda: None,
    ) -> None:
        self.network = network
        self.http = http
        self.token_url = token_url
        self.credentials = credentials
        self.client_auth = client_auth
        self._store = store

    def available(self) -> bool:
        """Whether the credentials hold what a refresh needs."""
        return bool(self.credentials.get("refresh_token") and self.credentials.get("client_id"))

    def expired(self, now: float | None = None) -> bool:
        """True when the stored ``expires_at`` (epoch seconds) has passed, or nearly."""
        try:
            expires_at = float(self.credentials["expires_at"])
        except (KeyError, TypeError, ValueError):
            return False  # unknown: find out from the network's 401
        return expires_at - EARLY_SECONDS <= (time.time() if now is None else now)

    def authorised(self, call: Callable[[], T]) -> T:
        """Run ``call``; renew the token first when it is known to be expired, and once more
        (then retry ``call`` once) when the network answers 401."""
        if self.available() and self.expired():
            self.refresh()
        try:
            return call()
        except AuthError as exc:
            if exc.status != 401 or not self.available():
                raise
        self.refresh()
        return call()

    def refresh(self) -> str:
        """Ask the token endpoint for a new access token; store and return it.

        Raises ``AuthError`` when the refresh token is refused (revoked, expired, already
        used), ``RateLimited`` on 429 and a retryable ``ConnectorError`` when the endpoint is
        down or answers 5xx.
        """
        used = str(self.credentials.get("refresh_token") or "")
        client_id = str(self.credentials.get("client_id") or "")
        if not used or not client_id:
            raise AuthError(f"{self.network}: the access token expired and the channel has no "
                            "refresh_token and client_id to renew it: rotate its credentials")
        secret = str(self.credentials.get("client_secret") or "")
        form = {"grant_type": "refresh_token", "refresh_token": used}
        auth: tuple[str, str] | None = None
        if self.client_auth == "basic" and secret:
            auth = (client_id, secret)
        else:
            form["client_id"] = client_id
            if secret:
                form["client_secret"] = secret
        try:
            response = self.http.post(self.token_url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT,
                                      headers={"accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ConnectorError(f"{self.network}: token endpoint unreachable: {type(exc).__name__}",
                                 retryable=True) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status == 429:
            raise RateLimited(f"{self.network}: token endpoint rate limited",
                              retry_after_from_headers(response.headers))
        if status >= 500:
            raise ConnectorError(f"{self.network}: token endpoint answered HTTP {status}", retryable=True)
        if status >= 400 or not isinstance(body, dict) or not body.get("access_token"):
            if self._adopt_stored(used):
                return str(self.credentials["access_token"])
            error = body.get("error") if isinstance(body, dict) else None
            raise AuthError(f"{self.network}: token refresh refused (HTTP {status}, "
                            f"{_reason(error)}): sign in again and rotate the channel's credentials")
        changed = {"access_token": str(body["access_token"])}
        new_refresh = body.get("refresh_token")
        if new_refresh and new_refresh != used:
            changed["refresh_token"] = str(new_refresh)
        expires_in = body.get("expires_in")
        if isinstance(expires_in, int | float) and expires_in > 0:
            changed["expires_at"] = str(int(time.time() + expires_in))
        self.credentials.update(changed)
        store = self._store()
        if store is not None:
            store.save(changed)
        return changed["access_token"]

    def _adopt_stored(self, used: str) -> bool:
        """Another worker may have rotated the refresh token meanwhile: take its tokens."""
        store = self._store()
        if store is None:
            return False
        stored = store.load()
        current = stored.get("refresh_token")
        if not current or current == used or not stored.get("access_token"):
            return False
        for key in ("access_token", "refresh_token", "expires_at"):
            if stored.get(key) is not None:
                self.credentials[key] = stored[key]
        return True


def _reason(error: Any) -> str:
    # The OAuth error code only (invalid_grant, invalid_client, ...): never the request.
    text = str(error or "no error code")
    return text[:60] if text.replace("_", "").isalnum() else "unreadable error"
