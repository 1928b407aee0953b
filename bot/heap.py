"""The process's heap, settled once the app is built, so that a burst of updates does not pay
for the garbage collector walking everything the imports made.

Measured with `bench/intake.py`: a full collection walked the ~340,000 objects left by aiogram,
SQLAlchemy, pydantic and Babel in about half a second, once or twice a round; and every
collection dropped aiogram's `Response[Message]` (pydantic keeps parametrised generics only
weakly), which the next reply then rebuilt for several milliseconds.
"""

import contextlib
import gc
from collections.abc import Iterator

from aiogram import methods
from aiogram.methods.base import Response, TelegramMethod

YOUNG_THRESHOLD = 20_000
"""Allocations between young collections (CPython's default is 700): an update allocates a few
thousand objects, nearly all freed by reference counting alone."""

_responses: list[object] = []


def _keep_responses() -> None:
    """Hold the `Response[T]` of every Bot API method, as aiogram parses each reply with one."""
    if _responses:
        return
    returning = {
        method.__returning__
        for method in vars(methods).values()
        if isinstance(method, type)
        and issubclass(method, TelegramMethod)
        and method is not TelegramMethod
    }
    _responses.extend(Response.__class_getitem__(t) for t in returning)


@contextlib.contextmanager
def settled() -> Iterator[None]:
    """Keep the response models, then move what start-up made out of the collector's sight
    (`gc.freeze`): inside, it walks only what the updates allocate. On the way out all is handed
    back, so that objects of native extensions are freed before the interpreter exits."""
    _keep_responses()
    gc.collect()
    gc.freeze()
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
