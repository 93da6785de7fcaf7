"""Expiring tokens renewed with the stored refresh token, per network that has them.

For each: an expired access token is refreshed once and the sync goes on; the renewed tokens
reach the credential store at once (encrypted there: see tests/integration/test_channel_tokens.py);
a refused refresh is an ``AuthError`` with a clear reason and no secret in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
from tests.connectors_sim.bluesky import HANDLE, PASSWORD, BlueskySim
from tests.connectors_sim.oauth import OAuthSim
from tests.connectors_sim.reddit import CLIENT_ID, CLIENT_SECRET, RedditSim
from tests.connectors_sim.server import SimServer
from tests.connectors_sim.x import ACCOUNT_ID, XSim
from tests.connectors_sim.youtube import CHANNEL_ID, PREFIX, YouTubeSim

from ventanilla.ingest.connectors.base import AuthError, ConnectorError
from ventanilla.ingest.connectors.bluesky import BlueskyConnector
from ventanilla.ingest.connectors.reddit import RedditConnector
from ventanilla.ingest.connectors.x import XConnector
from ventanilla.ingest.connectors.youtube import YouTubeConnector


class MemoryStore:
    """A CredentialStore in memory: what the channel's encrypted secrets would hold."""

    def __init__(self, credentials: Mapping[str, Any]) -> None:
        self.stored = dict(credentials)
        self.saves: list[dict[str, str]] = []

    def save(self, changed: Mapping[str, str]) -> None:
        self.saves.append(dict(changed))
        self.stored.update(changed)

    def load(self) -> dict[str, Any]:
        return dict(self.stored)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with SimServer() as sim:
        yield sim


def _no_secret_in(message: str, *values: Any) -> None:
    for value in values:
        assert str(value) not in message


# -- X API v2, OAuth 2.0 user context (two-hour tokens, rotating refresh tokens) ----------


def x_connector(server: SimServer, creds: Mapping[str, Any]) -> tuple[XConnector, MemoryStore]:
    conn = XConnector({"user_id": ACCOUNT_ID, "streams": ["mentions"], "page_size": 5}, dict(creds),
                      base_url=server.base_url, http=httpx.Client(timeout=10))
    store = MemoryStore(creds)
    conn.credential_store = store
    return conn, store


@pytest.mark.parametrize("secret", [None, "confidential-secret"], ids=["public-client", "confidential-client"])
def test_x_an_expired_token_is_refreshed_once_and_the_sync_goes_on(server: SimServer, secret: str | None) -> None:
    x = XSim(server)
    oauth = OAuthSim(server, "/2/oauth2/token", client_id="x-client", client_secret=secret, rotate=True,
                     expires_in=7200)
    x.load_mentions()
    creds = oauth.credentials()
    conn, store = x_connector(server, creds)
    first = conn.fetch(None)
    assert first.posts and oauth.refreshes == 0

    oauth.expire_access_tokens()
    x.add_mention("@AcmeAyuda la maleta sigue sin llegar")
    second = conn.fetch(first.cursor)
    assert [p.text for p in second.posts] == ["@AcmeAyuda la maleta sigue sin llegar"]
    assert oauth.refreshes == 1
    # The rotated refresh token and the new access token were stored before the retry.
    assert len(store.saves) == 1
    saved = store.saves[0]
    assert saved["access_token"] in oauth.access and saved["refresh_token"] in oauth.refresh
    assert saved["refresh_token"] != creds["refresh_token"] and int(saved["expires_at"]) > 0
    token_calls = server.requests_to("POST", "/2/oauth2/token")
    assert ("authorization" in token_calls[0].headers) == (secret is not None)

    # A restart built from the stored credentials needs no new refresh.
    again, _ = x_connector(server, store.stored)
    again.fetch(second.cursor)
    assert oauth.refreshes == 1


def test_x_a_token_past_its_expiry_is_renewed_before_the_call(server: SimServer) -> None:
    x = XSim(server)
    oauth = OAuthSim(server, "/2/oauth2/token", client_id="x-client", rotate=True)
    x.load_mentions()
    conn, _ = x_connector(server, {**oauth.credentials(), "expires_at": "1000"})
    oauth.expire_access_tokens()
    assert conn.fetch(None).posts
    assert oauth.refreshes == 1
    # No request went out with the expired token: the refresh came first.
    assert len(server.requests_to("GET", f"/2/users/{ACCOUNT_ID}/mentions")) == 1


def test_x_a_refused_refresh_is_an_auth_error_with_the_reason(server: SimServer) -> None:
    XSim(server)
    oauth = OAuthSim(server, "/2/oauth2/token", client_id="x-client", rotate=True)
    creds = oauth.credentials()
    conn, store = x_connector(server, creds)
    oauth.expire_access_tokens()
    oauth.revoke_refresh_tokens()
    with pytest.raises(AuthError) as caught:
        conn.fetch(None)
    assert "token refresh refused" in str(caught.value) and "invalid_grant" in str(caught.value)
    _no_secret_in(str(caught.value), creds["refresh_token"], creds["access_token"])
    assert store.saves == []


def test_x_a_refresh_token_already_rotated_by_another_worker_is_taken_from_the_store(
        server: SimServer) -> None:
    x = XSim(server)
    oauth = OAuthSim(server, "/2/oauth2/token", client_id="x-client", rotate=True)
    x.load_mentions()
    creds = oauth.credentials()
    sender, sender_store = x_connector(server, creds)   # the outbox's connector
    poller, _ = x_connector(server, creds)              # the scheduler's, same stored secrets
    poller.credential_store = sender_store              # one channel: one store
    oauth.expire_access_tokens()
    sender.test()                                       # renews and rotates the refresh token
    assert oauth.refreshes == 1
    assert poller.fetch(None).posts                     # its refresh token is spent: adopt the stored one
    assert oauth.refreshes == 1


def test_x_oauth1_credentials_never_try_to_refresh(server: SimServer) -> None:
    XSim(server)
    oauth = OAuthSim(server, "/2/oauth2/token", client_id="x-client")
    conn, _ = x_connector(server, {"consumer_key": "ck", "consumer_secret": "cs", "access_token": "at",
                                   "access_token_secret": "ats", "refresh_token": "r", "client_id": "x-client"})
    with pytest.raises(AuthError):
        conn.fetch(None)  # the OAuth 1.0a signature is not an access token the guard knows
    assert oauth.refreshes == 0 and not server.requests_to("POST", "/2/oauth2/token")


# -- YouTube (Google OAuth: one-hour tokens, refresh tokens kept) --------------------------


def yt_connector(server: SimServer, creds: Mapping[str, Any]) -> tuple[YouTubeConnector, MemoryStore]:
    conn = YouTubeConnector({"channel_id": CHANNEL_ID, "token_url": server.base_url + "/token"}, dict(creds),
                            base_url=server.base_url + PREFIX, http=httpx.Client(timeout=10))
    store = MemoryStore(creds)
    conn.credential_store = store
    return conn, store


def test_youtube_an_expired_token_is_refreshed_once_and_the_sync_goes_on(server: SimServer) -> None:
    yt = YouTubeSim(server)
    oauth = OAuthSim(server, "/token", client_id="apps.googleusercontent", client_secret="g-secret",
                     expires_in=3599, expired=server.expired_token_response)
    yt.load()
    creds = oauth.credentials()
    conn, store = yt_connector(server, creds)
    first = conn.fetch(None)
    assert first.posts
    oauth.expire_access_tokens()
    yt.add_thread("el vídeo dice una cosa y la web otra")
    second = conn.fetch(first.cursor)
    assert [p.text for p in second.posts] == ["el vídeo dice una cosa y la web otra"]
    assert oauth.refreshes == 1
    assert set(store.saves[0]) == {"access_token", "expires_at"}  # Google keeps the refresh token
    form = server.requests_to("POST", "/token")[0].form()
    assert form["client_id"] == ["apps.googleusercontent"] and form["grant_type"] == ["refresh_token"]


def test_youtube_a_refused_refresh_is_an_auth_error_with_the_reason(server: SimServer) -> None:
    YouTubeSim(server)
    oauth = OAuthSim(server, "/token", client_id="apps.googleusercontent", client_secret="g-secret")
    creds = oauth.credentials()
    conn, store = yt_connector(server, creds)
    oauth.expire_access_tokens()
    oauth.revoke_refresh_tokens()
    with pytest.raises(AuthError) as caught:
        conn.fetch(None)
    assert "youtube: token refresh refused" in str(caught.value) and "invalid_grant" in str(caught.value)
    _no_secret_in(str(caught.value), creds["refresh_token"], "g-secret")
    assert store.saves == []


def test_youtube_a_5xx_from_the_token_endpoint_is_retryable_not_an_auth_error(server: SimServer) -> None:
    YouTubeSim(server)
    oauth = OAuthSim(server, "/token", client_id="apps.googleusercontent", client_secret="g-secret")
    conn, _ = yt_connector(server, oauth.credentials())
    oauth.expire_access_tokens()
    server.fail_with_status(503, times=1, path_prefix="/token")  # the API says 401, the token endpoint 503
    with pytest.raises(ConnectorError) as caught:
        conn.fetch(None)
    assert not isinstance(caught.value, AuthError) and caught.value.retryable
    assert conn.fetch(None).cursor  # the next poll renews the token and reads


# -- Reddit (installed app: refresh token grant) --------------------------------------------


def reddit_connector(sim: RedditSim, refresh_token: str) -> tuple[RedditConnector, MemoryStore]:
    creds = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "refresh_token": refresh_token,
             "username": "AcmeAyuda"}
    conn = RedditConnector({"searches": []}, creds, base_url=sim.server.base_url)
    store = MemoryStore(creds)
    conn.credential_store = store
    return conn, store


def test_reddit_an_expired_token_is_renewed_and_a_rotated_refresh_token_stored(server: SimServer) -> None:
    sim = RedditSim(server)
    sim.rotate_refresh = True
    refresh = sim.issue_refresh_token()
    conn, store = reddit_connector(sim, refresh)
    sim.add_inbox_reply("primera")
    first = conn.fetch(None)
    assert [p.text for p in first.posts] == ["primera"]
    assert store.saves and store.stored["refresh_token"] != refresh
    sim.tokens.clear()  # every access token expired
    sim.add_inbox_reply("segunda")
    second = conn.fetch(first.cursor)
    assert [p.text for p in second.posts] == ["segunda"]
    assert store.stored["refresh_token"] in sim.refresh_tokens and len(store.saves) == 2


def test_reddit_a_revoked_refresh_token_is_an_auth_error_with_the_reason(server: SimServer) -> None:
    sim = RedditSim(server)
    conn, _ = reddit_connector(sim, "refresh-never-issued-SECRET")
    with pytest.raises(AuthError) as caught:
        conn.fetch(None)
    assert "Reddit refused the refresh token" in str(caught.value)
    _no_secret_in(str(caught.value), "refresh-never-issued-SECRET", CLIENT_SECRET)


# -- Bluesky (session: accessJwt renewed with refreshJwt by the SDK's refreshSession) -------


def bsky_connector(sim: BlueskySim, creds: Mapping[str, Any]) -> tuple[BlueskyConnector, MemoryStore]:
    conn = BlueskyConnector({"page_size": 4}, dict(creds), base_url=sim.server.base_url)
    store = MemoryStore(creds)
    conn.credential_store = store
    return conn, store


def test_bluesky_a_refused_access_jwt_is_refreshed_without_a_new_login(server: SimServer) -> None:
    sim = BlueskySim(server)
    creds = {"identifier": HANDLE, "app_password": PASSWORD}
    conn, store = bsky_connector(sim, creds)
    sim.add_notification("primera")
    first = conn.fetch(None)
    assert sim.logins == 1 and store.saves and "session" in store.saves[-1]
    sim.tokens.clear()  # the PDS refuses every access JWT (ExpiredToken/InvalidToken)
    sim.add_notification("segunda")
    second = conn.fetch(first.cursor)
    assert [p.text for p in second.posts] == ["segunda"]
    assert (sim.logins, sim.refreshes) == (1, 1)
    assert store.stored["session"] != store.saves[0]["session"]  # the rotated refresh JWT is kept

    # A restart resumes the stored session: no login at all.
    again, _ = bsky_connector(sim, store.stored)
    sim.add_notification("tercera")
    assert [p.text for p in again.fetch(second.cursor).posts] == ["tercera"]
    assert sim.logins == 1


def test_bluesky_a_refused_refresh_falls_back_to_the_app_password_then_fails_clearly(
        server: SimServer) -> None:
    sim = BlueskySim(server)
    conn, _ = bsky_connector(sim, {"identifier": HANDLE, "app_password": PASSWORD})
    conn.fetch(None)
    sim.tokens.clear()
    sim.refresh_tokens.clear()  # the refresh JWT is refused too: one login with the app password
    assert conn.fetch(None) is not None
    assert sim.logins == 2
    bad, _ = bsky_connector(sim, {"identifier": HANDLE, "app_password": "revoked-app-password"})
    with pytest.raises(AuthError) as caught:
        bad.fetch(None)
    _no_secret_in(str(caught.value), "revoked-app-password")
