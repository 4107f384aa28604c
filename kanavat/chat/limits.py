"""Abuse limits for the chat: token buckets per visitor and per address, bounded in memory.

Anyone with the link may answer, so nothing but these limits stands between a script and the
store. They are generous on purpose: a whole school class answers from one address behind
the school's NAT, and a 16-year-old taps fast. The buckets live in memory (a restart forgets
them, which is harmless) and the table is capped so a flood of new keys cannot grow it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_MESSAGE_CHARS = 2000  # the issue: longer messages get a clear reply, not an answer
MAX_FRAME_BYTES = 32 * 1024  # a 2,000-character message in JSON, escaped, fits with room
MAX_KEYS = 50_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """``burst`` actions at once, refilled at ``per_minute``; ``allow(key)`` spends one."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        self._buckets[key] = bucket
        while len(self._buckets) > MAX_KEYS:
            self._buckets.popitem(last=False)
        return allowed


@dataclass
class Limits:
    """The chat's limits, one object per app so tests can tighten them.

    Per visitor: a person answers a question every few seconds at most; 20 at once then one
    every two seconds leaves room for quick taps. Per address: 300 a minute is a class of
    30 answering together. Open sockets per address: a class, each with a tab or two.
    """

    per_visitor: RateLimit
    per_address: RateLimit
    sockets_per_address: int = 100

    @classmethod
    def default(cls) -> Limits:
        return cls(RateLimit(per_minute=30, burst=20), RateLimit(per_minute=300, burst=150))

    def allow(self, visitor: str, address: str) -> bool:
        # A visitor over their own limit does not spend the address's: one noisy visitor
        # must not lock a whole school out.
        if not self.per_visitor.allow(visitor):
            return False
        return self.per_address.allow(address)
