"""The settled heap of a running bot: start-up objects frozen, reply models kept, all handed
back on the way out."""

import gc
import weakref

from aiogram.methods.base import Response
from aiogram.types import Message

from bot import heap


def test_settled_freezes_start_up_and_keeps_the_reply_models_across_collections() -> None:
    threshold = gc.get_threshold()
    with heap.settled():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
        model = weakref.ref(Response[Message])
        gc.collect()
        assert model() is not None, "aiogram would rebuild Response[Message] for every reply"
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
