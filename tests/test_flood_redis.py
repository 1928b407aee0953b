"""With Redis the flood guard counts for all replicas together: a user cannot get twice the
limit through by landing on two of them, and hears "slow down" once, not once per replica."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flood import RedisFloodCounter, Verdict
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegram
from tests.test_replicas import (
    REDIS_URL,
    answered_as_a_flood,
    deliver,
    redis_up,
    replicas,
    seeded_for_replicas,
)


@pytest.fixture
async def two_clients() -> AsyncIterator[tuple[aioredis.Redis, aioredis.Redis]]:
    """Two connections to one Redis, as two replicas have."""
    if not await redis_up():
        pytest.skip(f"no Redis at {REDIS_URL}")
    a, b = aioredis.from_url(REDIS_URL), aioredis.from_url(REDIS_URL)
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_two_counters_share_the_limit_and_the_warning(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    window = timedelta(milliseconds=300)
    a, b = (RedisFloodCounter(client, 3, window) for client in two_clients)
    seen = [await (a if n % 2 else b).hit(5001) for n in range(6)]
    assert seen == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert await a.hit(5002) is Verdict.PASS  # another user has a count of their own
    await asyncio.sleep(0.4)
    assert await b.hit(5001) is Verdict.PASS  # a new window


async def test_replicas_counting_at_once_let_the_limit_through_and_warn_once(
    two_clients: tuple[aioredis.Redis, aioredis.Redis],
) -> None:
    a, b = (RedisFloodCounter(client, 3, timedelta(minutes=1)) for client in two_clients)
    seen = await asyncio.gather(*((a, b)[n % 2].hit(5001) for n in range(20)))
    assert sorted(v.value for v in seen) == sorted(["pass"] * 3 + ["warn"] + ["drop"] * 16)


async def test_a_flood_over_two_webhook_replicas_gets_one_slow_down(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    await seeded_for_replicas(database_url, engine, clock)
    nurse = tg.user(5001)
    overrides = {"flood_limit": 5, "flood_window": timedelta(minutes=1)}
    async with replicas(database_url, tg, 2, redis_url=REDIS_URL, **overrides) as (a, b):
        for n in range(8):
            assert await deliver((a, b)[n % 2], await nurse.send_text(f"고장 {n}")) == 200
        await answered_as_a_flood(nurse, a)
