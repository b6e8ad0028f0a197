"""Rate limits: an in-memory token bucket per conversation and per client address.

Each worker process keeps its own buckets, so with N workers a client can get up to N
times the configured rate; that is fine for stopping a runaway script, which is the aim.
Addresses are kept only as keyed hashes, only in memory, and only while they are limited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    """A bucket of `burst` requests refilled at `per_minute` (0 turns the limit off)."""

    per_minute: float
    burst: int

    @property
    def enabled(self) -> bool:
        """Tell whether this limit applies at all."""
        return self.per_minute > 0 and self.burst > 0


@dataclass(frozen=True)
class RateLimits:
    """The web API's limits; a person clicking and typing never comes near them."""

    per_address: Rate = Rate(per_minute=120, burst=60)
    per_conversation: Rate = Rate(per_minute=30, burst=20)

    @classmethod
    def from_settings(cls, settings: object) -> RateLimits:
        """Read `RATE_LIMIT_PER_ADDRESS` / `RATE_LIMIT_PER_CONVERSATION` (per minute) if set."""
        default = cls()
        address = getattr(settings, "rate_limit_per_address", None)
        conversation = getattr(settings, "rate_limit_per_conversation", None)
        return cls(
            per_address=_rate(address, default.per_address),
            per_conversation=_rate(conversation, default.per_conversation),
        )


def _rate(per_minute: float | None, default: Rate) -> Rate:
    if per_minute is None:
        return default
    return Rate(per_minute=float(per_minute), burst=max(1, int(per_minute // 2)))


#: The table of buckets is first pruned at this many keys (see `TokenBuckets._prune_at`).
PRUNE_FROM = 1024


@dataclass
class TokenBuckets:
    """Token buckets by key; `take` answers how long to wait, or 0 when allowed."""

    rate: Rate
    clock: Callable[[], float] = time.monotonic
    max_keys: int = 50_000
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _salt: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    # Refilled buckets are dropped whenever the table doubles: a key seen once (a visitor,
    # a short conversation) does not stay for the life of the worker.
    _prune_at: int = PRUNE_FROM

    def take(self, key: str) -> float:
        """Spend one token for `key`; return 0 if allowed, else seconds until one is free."""
        if not self.rate.enabled:
            return 0.0
        now = self.clock()
        name = hmac.new(self._salt, key.encode(), hashlib.sha256).hexdigest()[:32]
        refill = self.rate.per_minute / 60.0
        tokens, last = self._buckets.get(name, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - last) * refill)
        if tokens < 1.0:
            self._buckets[name] = (tokens, now)
            return (1.0 - tokens) / refill
        self._buckets[name] = (tokens - 1.0, now)
        if len(self._buckets) > min(self._prune_at, self.max_keys):
            self._forget_full(now)
            self._prune_at = max(PRUNE_FROM, 2 * len(self._buckets))
        return 0.0

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: they hold no information worth keeping."""
        refill = self.rate.per_minute / 60.0
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * refill >= self.rate.burst
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) > self.max_keys:  # under attack: forget the oldest half
            ordered = sorted(self._buckets.items(), key=lambda item: item[1][1])
            self._buckets = dict(ordered[len(ordered) // 2 :])
