"""What rendering a text report's two notices costs: the reporter's ack (with its ETA window and
urgency buttons) and the engineer's job message, in each language.

    python bench/render.py [--times 5000]

Every filed report renders both inside the intake's batch (bot/notify/render.py), so this is
part of bench/intake.py's figure, timed alone: µs per notice, text, keyboard and the keyboard's
JSON as the outbox stores it.
"""

from __future__ import annotations

import argparse
import timeit
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from harness import table

from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import TicketStatus, Urgency
from bot.models import Staff
from bot.notify.render import render
from bot.services.forecast import Window
from bot.services.notices import URGENCY_ROW, Notice


def notices(language: str) -> tuple[Notice, Notice]:
    """The two notices of a fresh report, with the parameters TicketService gives them."""
    zone, now = ZoneInfo("Asia/Seoul"), datetime.now(UTC)
    eta = Window(now + timedelta(minutes=30), now + timedelta(minutes=95), zone, now.date())
    params = {
        "number": 1234,
        "department": "내과 병동",
        "description": "3번 프린터 용지 걸림",
        "urgency": Urgency.NORMAL,
        "status": TicketStatus.ASSIGNED,
        "engineer": "이기사",
        "reporter": "김간호",
        "kind": None,
        "resolution": None,
        "priority": False,
        "asset": None,
        "model": None,
        "location": None,
        "position": 3,
    }
    reporter = Staff(telegram_id=1, name="김간호", language=language)
    engineer = Staff(telegram_id=2, name="이기사", language=language)
    return (
        Notice(reporter, "ticket.created", {**params, "eta": eta}, 7, (URGENCY_ROW, "cancel")),
        Notice(engineer, "job.assigned", params, 7, ("accept", "transfer")),
    )


def cost_us(notice: Notice, times: int) -> float:
    def once() -> None:
        assert render(notice).markup is not None

    once()
    return min(timeit.repeat(once, number=times, repeat=3)) / times * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--times", type=int, default=5000)
    args = parser.parse_args()
    rows = []
    for language in SUPPORTED_LANGUAGES:
        ack, job = (cost_us(n, args.times) for n in notices(language))
        rows.append(
            (
                f"{language}: ack / job message / both, µs",
                f"{ack:.0f} / {job:.0f} / {ack + job:.0f}",
            )
        )
    table(rows)


if __name__ == "__main__":
    main()
