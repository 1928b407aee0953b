"""`/healthz`, for the load balancer in front of the replicas and the container's health
check: 200 while this replica can serve (its database answers), 503 while it stops or cannot
reach the database, so that traffic goes to the others meanwhile. It needs no token: it tells
nothing about patients or staff, only whether this replica leads, whether it polls Telegram
(a standby does not) and how many notices wait."""

import asyncio
import logging

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
TIMEOUT = 2.0
"""Seconds the database may take to answer: load balancers give up after a few."""


class Health:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        leading: asyncio.Event,
        polling: asyncio.Event,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.leading, self.polling = leading, polling
        self.serving = True
        """False once the replica stops: the webhook answers 503 too (bot/webhook.py)."""

    def stop_serving(self) -> None:
        self.serving = False

    async def check(self, request: web.Request) -> web.Response:
        if not self.serving:
            return web.json_response({"status": "stopping"}, status=503)
        pending = select(func.count()).where(OutboxMessage.status == OutboxStatus.PENDING)
        try:
            async with asyncio.timeout(TIMEOUT), self.sessionmaker() as session:
                waiting = await session.scalar(pending)
        except Exception as error:  # whatever it is, this replica cannot serve
            log.warning("health check: the database did not answer (%s)", type(error).__name__)
            return web.json_response({"status": "database unreachable"}, status=503)
        status = {
            "status": "ok",
            "leading": self.leading.is_set(),
            "polling": self.polling.is_set(),
            "outbox_pending": waiting,
        }
        return web.json_response(status)
