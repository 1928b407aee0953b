"""Long polling with a standby: one replica polls Telegram, the others wait to take over.

Two processes polling one bot token take each other's updates (Telegram ends the older
getUpdates with 409 Conflict), so only the holder of the poller's advisory lock polls
(bot/leader.py). When it stops or dies, a standby takes over within LEADER_RETRY and reads
what the old poller had not confirmed; the updates it had already handled are dropped by
update id (bot/middlewares.py), so none is lost and none is handled twice.
"""

import asyncio
import signal
from datetime import timedelta

from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.leader import POLLER_LOCK, Leadership


class Poller:
    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, engine: AsyncEngine, retry: timedelta
    ) -> None:
        self.dispatcher, self.bot = dispatcher, bot
        self.lease = Leadership(engine, retry, POLLER_LOCK, "polls Telegram for updates")
        self.polling = self.lease.leading
        """Set while this replica polls; a standby's stays clear."""
        self._stop = asyncio.Event()
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        dispatcher.startup.register(self._on_startup)

    async def run(self, *, handle_signals: bool) -> None:
        """Poll whenever this replica holds the lock, until `stop()` (or SIGTERM / SIGINT)."""
        if handle_signals:
            stop_on_signals(self._stop)
        lease = asyncio.create_task(self.lease.run(self._start, self._end), name="poller-lease")
        stopped = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({lease, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            self.lease.end()
            await lease  # raises what ended it, if it ended of itself

    def stop(self) -> None:
        """End `run()`, now or as soon as it starts (a stop may come first)."""
        self._stop.set()

    async def _on_startup(self) -> None:
        self._started.set()

    async def _start(self) -> None:
        self._started.clear()
        self._task = asyncio.create_task(
            self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False),
            name="polling",
        )
        await self._started.wait()  # from here on, stop_polling() is valid

    async def _end(self) -> None:
        if self._task is None:
            return
        if not self._task.done():
            await self.dispatcher.stop_polling()
        task, self._task = self._task, None
        await task


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
