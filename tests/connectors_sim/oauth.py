"""A simulated OAuth 2.0 token endpoint (RFC 6749 section 6, refresh grant) guarding a simulator.

    oauth = OAuthSim(server, "/2/oauth2/token", client_id="cid", rotate=True,
                     expired=server.expired_token_response)
    creds = oauth.credentials()          # access_token, refresh_token, client_id, ...
    oauth.expire_access_tokens()         # every API call answers the network's 401 ...
    ...                                  # ... until the client refreshes
    oauth.revoke_refresh_tokens()        # the token endpoint answers 400 invalid_grant

Every request except the token endpoint must carry ``Authorization: Bearer <valid token>``.
``rotate``: each refresh answers a new refresh token and retires the old one (X does this).
"""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Callable
from typing import Any

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response


class OAuthSim:
    """Issues and checks access tokens; counts refreshes."""

    def __init__(self, server: SimServer, token_path: str, *, client_id: str = "client-1",
                 client_secret: str | None = None, rotate: bool = False, expires_in: int = 7200,
                 expired: Callable[[], SimResponse] | None = None) -> None:
        self.server = server
        self.token_path = token_path
        self.client_id = client_id
        self.client_secret = client_secret
        self.rotate = rotate
        self.expires_in = expires_in
        self.expired = expired or server.expired_token_response
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.refreshes = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server.route("POST", token_path, self._token)
        server.guards.append(self._guard)

    def _new(self, kind: str) -> str:
        return f"{kind}-{next(self._ids)}-SECRETVALUE"

    def credentials(self) -> dict[str, Any]:
        """A fresh grant: what a channel stores after the user authorised the app."""
        with self._lock:
            access, refresh = self._new("access"), self._new("refresh")
            self.access.add(access)
            self.refresh.add(refresh)
        creds: dict[str, Any] = {"access_token": access, "refresh_token": refresh,
                                 "client_id": self.client_id}
        if self.client_secret:
            creds["client_secret"] = self.client_secret
        return creds

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working."""
        with self._lock:
            self.access.clear()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is refused (the user revoked the app)."""
        with self._lock:
            self.refresh.clear()

    def _guard(self, req: SimRequest) -> SimResponse | None:
        if req.path == self.token_path:
            return None
        token = req.headers.get("authorization", "")
        if token[:7].lower() == "bearer " and token[7:] in self.access:
            return None
        return self.expired()

    def _client_ok(self, req: SimRequest) -> bool:
        basic = req.headers.get("authorization", "")
        if basic.startswith("Basic "):
            user, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            return user == self.client_id and (self.client_secret is None or secret == self.client_secret)
        return req.arg("client_id") == self.client_id and (
            self.client_secret is None or req.arg("client_secret") == self.client_secret)

    def _token(self, req: SimRequest) -> SimResponse:
        if not self._client_ok(req):
            return json_response({"error": "invalid_client"}, 401)
        if req.arg("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, 400)
        used = req.arg("refresh_token") or ""
        with self._lock:
            if used not in self.refresh:
                return json_response({"error": "invalid_grant",
                                      "error_description": "Token has been expired or revoked."}, 400)
            self.refreshes += 1
            access = self._new("access")
            self.access.add(access)
            body: dict[str, Any] = {"access_token": access, "token_type": "bearer",
                                    "expires_in": self.expires_in}
            if self.rotate:
                self.refresh.discard(used)
                fresh = self._new("refresh")
                self.refresh.add(fresh)
                body["refresh_token"] = fresh
        return json_response(body)
