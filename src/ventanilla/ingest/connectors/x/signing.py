"""X signatures: the webhook CRC and body signature, and OAuth 1.0a request signing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """``sha256=`` + base64 HMAC-SHA256 of ``crc_token`` keyed with the consumer secret."""
    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def verify_signature(consumer_secret: str, body: bytes, given: str) -> bool:
    """Constant-time check of an ``x-twitter-webhooks-signature`` header value."""
    digest = hmac.new(consumer_secret.encode(), body, hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def _pct(value: str) -> str:
    return quote(value, safe="~")


def oauth1_header(
    method: str, url: str, consumer_key: str, consumer_secret: str,
    token: str, token_secret: str, *, nonce: str | None = None, timestamp: int | None = None,
) -> str:
    """An OAuth 1.0a HMAC-SHA1 ``Authorization`` header (RFC 5849) for a JSON-body request."""
    parts = urlsplit(url)
    oauth = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_token": token,
        "oauth_version": "1.0",
    }
    pairs = parse_qsl(parts.query, keep_blank_values=True) + list(oauth.items())
    normalised = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in pairs))
    base_url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))
    base = "&".join((method.upper(), _pct(base_url), _pct(normalised)))
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}"
    signature = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest())
    oauth["oauth_signature"] = signature.decode()
    return "OAuth " + ", ".join(f'{_pct(k)}="{_pct(v)}"' for k, v in sorted(oauth.items()))
