"""Opaque secrets handed to people (session cookies, API tokens, reset links) and their digests.

Each secret carries 256 random bits, so a plain SHA-256 digest is enough to store it:
nobody can guess a preimage, and lookups stay a single indexed equality.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["derive", "digest", "new_secret"]


def new_secret(prefix: str = "") -> str:
    """A fresh URL-safe secret of 256 random bits, with an optional recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The hex SHA-256 stored in place of ``secret``."""
    return hashlib.sha256(secret.encode()).hexdigest()


def derive(secret: str, purpose: str) -> str:
    """A value bound to ``secret`` and ``purpose`` (HMAC-SHA256), URL-safe; reveals nothing of ``secret``."""
    mac = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
