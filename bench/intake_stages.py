"""Where a text report's CPU goes: the handlers, the intake's batch, the outbox sender, apart.

    python bench/intake_stages.py [--reports 200] [--rounds 4]
                                  [--database-url postgresql://postgres@127.0.0.1/postgres]

bench/intake.py times the whole path; this one splits it, each stage running alone:
- handlers: N users send a text report at once with the outbox sender stopped, until every
  report is filed: the fake Bot API's update, aiogram's parsing and routing, the middlewares
  (flood guard, per-user order, unit of work, sender lookup), the handler, and the intake's
  batches;
- intake alone: the same N reports handed straight to the intake (no Telegram, no handlers);
- sender: the acknowledgements and job messages those reports queued, sent by one drain of the
  outbox against the fake (its handling of each sendMessage included).
The handlers' own share is the first figure less the second. Process CPU time per report or
per message; every round starts from an empty queue. The fake server shares the process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from harness import backend, on_duty, run_on_database, running, seed, table
from intake import REPORTERS, clear_desk
from sqlalchemy import select

from bot.models import Staff
from bot.services.intake import Intake, ReportRequest
from tests.fake_telegram import FakeTelegram

FIRST_UPDATE = 10**9
"""Update ids of the reports handed straight to the intake, clear of the fake's."""


class Counted:
    """Counts the reports the intake has finished with (filed or refused)."""

    def __init__(self, intake: Intake) -> None:
        self.done = 0
        self._file = intake.file

        async def counting(request: ReportRequest) -> int:
            try:
                return await self._file(request)
            finally:
                self.done += 1

        intake.file = counting  # type: ignore[method-assign]

    async def wait_for(self, n: int) -> None:
        while self.done < n:
            await asyncio.sleep(0.005)


async def bench(url: str, args: argparse.Namespace) -> None:
    reporters = [REPORTERS + n for n in range(args.reports)]
    engineers = await seed(url, reporters, args.engineers)
    handlers: list[float] = []
    alone: list[float] = []
    sender: list[float] = []
    async with FakeTelegram() as tg, running(url, tg, paced=False) as app:
        await on_duty(tg, engineers)
        await app.sender.drain()
        app.sender.stop()  # the drains below send, nothing else
        intake: Intake = app.dispatcher["intake"]
        counted = Counted(intake)
        async with app.sessionmaker() as session:
            staff_ids = (
                await session.scalars(select(Staff.id).where(Staff.telegram_id.in_(reporters)))
            ).all()
        update_id = FIRST_UPDATE
        for n in range(args.rounds):
            await clear_desk(app)
            counted.done = 0
            cpu = time.process_time()
            for user in reporters:
                await tg.user(user).send_text(f"{n}회차 프린터 고장")
            await counted.wait_for(len(reporters))
            handlers.append((time.process_time() - cpu) / len(reporters) * 1000)
            cpu = time.process_time()
            sent = await app.sender.drain()
            sender.append((time.process_time() - cpu) / sent * 1000)

            await clear_desk(app)
            requests = []
            for staff_id in staff_ids:
                update_id += 1
                requests.append(ReportRequest(staff_id, "프린터 고장", update_id=update_id))
            cpu = time.process_time()
            await asyncio.gather(*(intake.file(r) for r in requests))
            alone.append((time.process_time() - cpu) / len(requests) * 1000)
            await app.sender.drain()

    def ms(values: list[float]) -> str:
        rounds = " ".join(f"{v:.2f}" for v in values)
        return f"{statistics.median(values):.2f} ms  (rounds: {rounds})"

    own = [h - a for h, a in zip(handlers, alone, strict=True)]
    table(
        [
            ("backend", backend(url)),
            ("reports per round (distinct users)", f"{args.reports}, all at once, empty queue"),
            ("updates -> filed, per report", ms(handlers)),
            ("  of which the intake's batches alone", ms(alone)),
            ("  so the handlers' own share", ms(own)),
            ("sender, per message (acks and job messages)", ms(sender)),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--engineers", type=int, default=6, help="beside the seed's two")
    run_on_database(parser, bench)


if __name__ == "__main__":
    main()
