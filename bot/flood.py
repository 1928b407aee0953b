"""Counting each user's updates for the flood guard: in this process, or in Redis so that
replicas behind one webhook share one limit (and one "slow down" a window)."""

import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from enum import Enum
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"
    """Dropped, and the first drop of its window: the user is told to slow down."""
    DROP = "drop"


class FloodCounter(Protocol):
    async def hit(self, user_id: int) -> Verdict:
        """Count one update from `user_id` and say what becomes of it."""


class MemoryFloodCounter:
    """A sliding window per user, in this process. Users quiet for a whole window are
    forgotten every `SWEEP_EVERY` updates, so the counts stay as many as the active users."""

    SWEEP_EVERY = 1000

    def __init__(
        self, limit: int, window: timedelta, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self.now = now
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._until_sweep = self.SWEEP_EVERY

    async def hit(self, user_id: int) -> Verdict:
        now = self.now()
        self._until_sweep -= 1
        if not self._until_sweep:
            self._sweep(now)
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            return Verdict.PASS
        if self._warned.get(user_id, -self.window) <= now - self.window:
            self._warned[user_id] = now
            return Verdict.WARN
        return Verdict.DROP

    def _sweep(self, now: float) -> None:
        self._until_sweep = self.SWEEP_EVERY
        since = now - self.window
        self._hits = {u: hits for u, hits in self._hits.items() if hits and hits[-1] > since}
        self._warned = {u: at for u, at in self._warned.items() if at > since}

    @property
    def users(self) -> int:
        """Users with a count held."""
        return len(self._hits)


class RedisFloodCounter:
    """A fixed window per user, shared by every replica: the first update creates the counter
    with the window as its expiry and each one increments it. INCR is atomic, so replicas
    counting at once let no more than `limit` through, and exactly one of them sees the first
    update over it, the one to warn."""

    PREFIX = "repairbot:flood"

    def __init__(self, redis: Redis, limit: int, window: timedelta) -> None:
        self.redis = redis
        self.limit = limit
        self.window_ms = max(1, int(window.total_seconds() * 1000))

    async def hit(self, user_id: int) -> Verdict:
        key = f"{self.PREFIX}:{user_id}"
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, px=self.window_ms, nx=True)
                pipe.incr(key)
                _, count = await pipe.execute()
        except RedisError:
            log.warning("flood counter unreachable; update let through", exc_info=True)
            return Verdict.PASS
        if count <= self.limit:
            return Verdict.PASS
        return Verdict.WARN if count == self.limit + 1 else Verdict.DROP
