"""The flood guard's count in one process: a sliding window per user, and users gone quiet
forgotten, so a desk that has seen every ward of a hospital does not keep them all."""

from datetime import timedelta

from bot.flood import MemoryFloodCounter, Verdict


class Ticking:
    def __init__(self) -> None:
        self.at = 0.0

    def __call__(self) -> float:
        return self.at


async def test_the_window_slides_and_one_warning_is_given() -> None:
    clock = Ticking()
    counter = MemoryFloodCounter(3, timedelta(seconds=10), clock)
    seen = [await counter.hit(5001) for _ in range(5)]
    assert seen == [Verdict.PASS] * 3 + [Verdict.WARN, Verdict.DROP]
    clock.at = 10.5
    assert await counter.hit(5001) is Verdict.PASS


async def test_users_quiet_for_a_window_are_forgotten() -> None:
    clock = Ticking()
    counter = MemoryFloodCounter(3, timedelta(seconds=10), clock)
    for user in range(counter.SWEEP_EVERY - 1):
        await counter.hit(100_000 + user)
    assert counter.users == counter.SWEEP_EVERY - 1
    clock.at = 30.0
    await counter.hit(5001)  # the sweep's turn: only this user has hit within the window
    assert counter.users == 1
    assert await counter.hit(5001) is Verdict.PASS
