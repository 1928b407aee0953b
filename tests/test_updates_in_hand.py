"""The count of updates in hand that a stop waits for (bot.middlewares.UpdatesInHand)."""

import asyncio
from typing import Any

from aiogram.types import TelegramObject, Update

from bot.app import App
from bot.middlewares import UpdatesInHand


async def test_a_stop_waits_for_the_updates_in_hand_then_gives_up_after_its_grace() -> None:
    in_hand = UpdatesInHand()
    assert await in_hand.finished(within=0.1)  # nothing in hand
    release = asyncio.Event()

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        await release.wait()

    handling = asyncio.create_task(in_hand(handler, Update(update_id=41), {}))
    await asyncio.sleep(0)
    assert (in_hand.count, in_hand.newest) == (1, 41)
    assert not await in_hand.finished(within=0.1)  # the grace ran out
    release.set()
    assert await in_hand.finished(within=1.0)
    await handling
    assert in_hand.count == 0


async def test_the_count_is_outermost_so_error_replies_are_in_hand(desk: App) -> None:
    outer = list(desk.dispatcher.update.outer_middleware)
    assert outer[0] is desk.dispatcher["in_hand"]
    assert type(outer[1]).__name__ == "ErrorsMiddleware"  # aiogram's, after it
