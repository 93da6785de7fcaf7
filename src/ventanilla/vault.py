"""Secrets at rest (network tokens, webhook secrets): Fernet-encrypted with a key from the environment."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from ventanilla.config import get_settings


class VaultError(RuntimeError):
    """The stored secret cannot be read with the configured key."""


def _fernet() -> Fernet:
    # A 32-byte key derived from VENTANILLA_SECRET_KEY: one secret to keep, and rotating it
    # is a deliberate act (re-encrypt with `ventanilla channels rotate`).
    digest = hashlib.sha256(("vault:" + get_settings().secret_key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secrets: dict[str, Any]) -> str:
    """Encrypt a dict of secrets for storage."""
    return _fernet().encrypt(json.dumps(secrets).encode()).decode()


def unseal(token: str | None) -> dict[str, Any]:
    """Decrypt stored secrets (an empty dict when none are stored)."""
    if not token:
        return {}
    try:
        return dict(json.loads(_fernet().decrypt(token.encode())))
    except InvalidToken as exc:
        raise VaultError("stored secrets cannot be decrypted with the configured key") from exc
