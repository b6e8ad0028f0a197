"""Pseudonyms: a conversation is keyed by an HMAC of `channel:user`, never the raw id."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: bytes, channel: str, user: str | int) -> str:
    """Return the stable, non-reversible key of a channel user's conversation."""
    return hmac.new(key, f"{channel}:{user}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """Return the hash under which a web conversation's bearer token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
