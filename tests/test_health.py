"""/healthz, as a load balancer probes it: ok with the replica's lead and backlog, 503 when
the database does not answer (a stopping replica's 503 is in tests/test_replicas.py)."""

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.db import create_engine, create_sessionmaker
from bot.notify.outbox import Outbox
from bot.web.health import Health


async def probe(url: str) -> tuple[int, dict[str, Any]]:
    """GET /healthz of a running replica: its status and JSON."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
        return response.status, await response.json()


async def test_a_serving_replica_says_what_it_runs_and_what_waits_to_be_sent(desk: App) -> None:
    assert await probe(desk.web_url) == (
        200,
        {"status": "ok", "leading": True, "polling": True, "outbox_pending": 0},
    )
    desk.sender.stop()  # the sender pauses: a notice stays pending
    async with desk.sessionmaker() as session:
        outbox = Outbox(session, desk.clock)
        outbox.add_message(5001, "대기 중인 알림")
        await outbox.write()
        await session.commit()
    assert await probe(desk.web_url) == (
        200,
        {"status": "ok", "leading": True, "polling": True, "outbox_pending": 1},
    )


async def test_a_replica_that_cannot_reach_its_database_is_taken_out(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'repairbot.db'}")
    app = web.Application()
    health = Health(create_sessionmaker(engine), asyncio.Event(), asyncio.Event())
    app.router.add_get("/healthz", health.check)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert await response.json() == {"status": "database unreachable"}
    await engine.dispose()
