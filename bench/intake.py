"""Intake throughput: text reports persisted and acknowledged per second, next to a bare echo bot.

    python bench/intake.py [--reports 200] [--echo 1000] [--rounds 3] [--engineers 6] [--paced]
                           [--database-url postgresql://postgres@127.0.0.1/postgres]

N registered ward users each send one text report at once; the rate is N over the time from the
first report to the last acknowledgement ("접수되었습니다: #n", which leaves through the outbox)
arriving at the fake Bot API (tests/fake_telegram.py, on loopback, its limits off); every round
starts from an empty queue. The references (bench/reference_bots.py), each on a fake server of
its own:
- a bare aiogram echo bot (one handler answering every text), the ceiling of aiogram + HTTP in
  this process, which the issue's target is set against;
- the same echo bot sending every text on to another chat too: two sends per text, as if every
  report's two messages (the reporter's ack and the engineer's job message) went out at once;
- the least bot: the report and both its messages persisted in one transaction and sent
  through an outbox (SQLAlchemy Core, batched), one chat's messages in order, and nothing else;
  what a report must cost under issue 7's rules on the design card's stack. It takes as many
  reports per round as the app.
A round ends at the last acknowledgement. The job messages trail behind it: a handful of
engineers' chats get theirs one at a time, in order (Telegram allows one a second per chat),
while the acks go to a different chat each. So the app and the least bot get about 1.2 messages
a report through Telegram within a round, not two; the table's last rows say how many. Each bot
then sends the rest of its outbox before the next round starts, so that no bot's sends run in
another's timed round; the CPU that costs is reported too (all messages out). The fake servers
forget each round, so that what they record does not grow the heap every round collects.
Each round times the four back to back and the ratios are taken round by round, so that a
machine whose speed drifts during the run compares figures taken at the same time. The app
runs with the outbox sender's own pacing lifted (this measures our code, not Telegram's 30
messages a second); --paced adds a round with it. SQLite by default; --database-url names a
PostgreSQL server on which a throwaway database is created and dropped. Fake servers, users and
bots share one process.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from statistics import median

from harness import (
    ACK,
    Sent,
    backend,
    on_duty,
    run_on_database,
    running,
    seed,
    spread,
    table,
    text,
)
from reference_bots import COPY, echo_bot, least_bot
from sqlalchemy import func, select, update

from bot.app import App
from bot.domain.enums import OPEN_STATUSES, TicketStatus
from bot.models import OutboxMessage, OutboxStatus, Ticket
from tests.fake_telegram import FakeTelegram

ECHO_USERS = 300_000
LEAST_USERS = 400_000
REPORTERS = 200_000


def same(text: str) -> Callable[[int], str]:
    return lambda _user: text


def same_text(expected: str) -> Callable[[str], bool]:
    return lambda text: text == expected


def is_ack(text: str) -> bool:
    return ACK in text


@dataclass
class Round:
    rate: float
    """Messages answered per second: N over the time from the first sent to the last answer."""
    latencies: list[float]
    cpu_ms: float
    """Process CPU time per message (bot, fake server and users alike)."""
    sends: float
    """Messages the bot got Telegram to take per text, within the round."""
    drain_cpu_ms: float = 0.0
    """Process CPU time per text after the round, until the bot's outbox was empty."""


Unsent = Callable[[], Awaitable[int]]
"""How many messages a bot's outbox still holds."""


async def nothing_unsent() -> int:
    """The echo bot's outbox: it answers in its handler and keeps nothing back."""
    return 0


def app_unsent(app: App) -> Unsent:
    async def unsent() -> int:
        async with app.sessionmaker() as session:
            pending = OutboxMessage.status == OutboxStatus.PENDING
            return await session.scalar(select(func.count()).where(pending)) or 0

    return unsent


async def burst(
    tg: FakeTelegram,
    users: list[int],
    message: Callable[[int], str],
    acked: Callable[[str], bool],
    unsent: Unsent,
) -> Round:
    """Send one text from every user at once and wait for every answer (timed), then for the
    bot's outbox to empty (its CPU counted apart)."""
    sent = Sent(tg)
    chats = set(users)
    answered: dict[int, float] = {}
    cpu, started = time.process_time(), time.monotonic()
    for user in users:
        await tg.user(user).send_text(message(user))
    while len(answered) < len(users):
        for call in sent.new():
            if call.params["chat_id"] in chats and acked(text(call)):
                answered.setdefault(call.params["chat_id"], call.at)
        if time.monotonic() > started + 300:
            raise SystemExit(f"only {len(answered)} of {len(users)} answered within 300 s")
        await asyncio.sleep(0.01)
    cpu = time.process_time() - cpu
    took = max(answered.values()) - started
    sends = len(sent.calls) / len(users)
    drain = time.process_time()
    while await unsent():
        if time.monotonic() > started + 300:
            raise SystemExit("the outbox did not empty within 300 s")
        await asyncio.sleep(0.01)
    drain = time.process_time() - drain
    tg.forget()  # what the fake keeps of each round would slow every later round's collector
    return Round(
        len(users) / took,
        [at - started for at in answered.values()],
        cpu / len(users) * 1000,
        sends,
        drain / len(users) * 1000,
    )


async def clear_desk(app: App) -> None:
    """Cancel every open ticket (straight in SQL), so each round starts from an empty queue."""
    async with app.sessionmaker() as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.status.in_(OPEN_STATUSES))
            .values(status=TicketStatus.CANCELLED)
        )
        await session.commit()


@dataclass
class Rounds:
    echo: list[Round]
    copying: list[Round]
    least: list[Round]
    app: list[Round]
    paced: Round | None
    tickets: int


async def rounds(
    url: str, tg: FakeTelegram, users: list[int], engineers: list[int], args: argparse.Namespace
) -> Rounds:
    """Each round times the echo bot, the echo bot sending copies, the least bot, then the app
    (the sender unpaced, every round from an empty queue), back to back, so that a ratio
    compares figures taken at the same time; maybe one paced round of the app at the end. Each
    bot has a fake server of its own, so none sees another's updates; they idle in a long poll
    while another is timed, and share the heap the app settles."""
    echo_users = [ECHO_USERS + n for n in range(args.echo)]
    least_users = [LEAST_USERS + n for n in range(args.reports)]
    async with (
        FakeTelegram() as echo_tg,
        echo_bot(echo_tg),
        FakeTelegram() as least_tg,
        least_bot(least_tg, url) as least,
        running(url, tg, paced=False) as app,
    ):
        echoed, app_outbox = nothing_unsent, app_unsent(app)
        await on_duty(tg, engineers)
        await burst(echo_tg, echo_users[: args.warmup], same(COPY), same_text(COPY), echoed)
        await burst(least_tg, least_users[: args.warmup], same("워밍업"), is_ack, least.unsent)
        await burst(tg, users[: args.warmup], same("워밍업 프린터"), is_ack, app_outbox)
        timed = Rounds([], [], [], [], None, 0)
        for n in range(args.rounds):
            for rounds_of, bot_tg, texts, text_of, answered, unsent in (
                (timed.echo, echo_tg, echo_users, same("echo"), same_text("echo"), echoed),
                (timed.copying, echo_tg, echo_users, same(COPY), same_text(COPY), echoed),
                (timed.least, least_tg, least_users, same("프린터 고장"), is_ack, least.unsent),
            ):
                rounds_of.append(await burst(bot_tg, texts, text_of, answered, unsent))
            await clear_desk(app)
            report = same(f"{n}회차 프린터 고장")
            timed.app.append(await burst(tg, users, report, is_ack, app_outbox))
        if args.paced:
            await clear_desk(app)
            app.sender.pacer.overall_rate = app.sender.OVERALL_RATE
            app.sender.pacer.per_chat_rate = app.sender.PER_CHAT_RATE
            timed.paced = await burst(tg, users, same("속도 제한 프린터"), is_ack, app_outbox)
        async with app.sessionmaker() as session:
            timed.tickets = await session.scalar(select(func.count()).select_from(Ticket)) or 0
    return timed


def median_round(rounds: list[Round]) -> Round:
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def all_out(rounds: list[Round]) -> float:
    """CPU per text in the round and while its outbox emptied afterwards."""
    return median(r.cpu_ms + r.drain_cpu_ms for r in rounds)


def ratios(app: list[Round], reference: list[Round]) -> list[float]:
    """The app's rate over the reference's, round by round."""
    return sorted(a.rate / r.rate for a, r in zip(app, reference, strict=True))


async def bench(url: str, args: argparse.Namespace) -> None:
    reporters = [REPORTERS + n for n in range(args.reports)]
    engineers = await seed(url, reporters, args.engineers)
    async with FakeTelegram() as tg:
        timed = await rounds(url, tg, reporters, engineers, args)
    expected = args.warmup + (args.rounds + bool(args.paced)) * args.reports
    app, ceiling, two_sends, least = (
        median_round(r) for r in (timed.app, timed.echo, timed.copying, timed.least)
    )
    to_echo, to_copying = ratios(timed.app, timed.echo), ratios(timed.app, timed.copying)
    ceiling_of_two, floor = ratios(timed.copying, timed.echo), ratios(timed.least, timed.echo)
    to_least = ratios(timed.app, timed.least)
    rows = [
        ("backend", backend(url)),
        ("echo bot: texts per round (distinct users)", f"{args.echo}, all at once"),
        ("app: reports per round (distinct users)", f"{args.reports}, all at once, empty queue"),
        ("engineers on duty", f"{len(engineers)} in zones A, B, C"),
        ("echo bot, msg/s (rounds)", " ".join(f"{r.rate:.0f}" for r in timed.echo)),
        (
            "echo bot sending a copy, msg/s (rounds)",
            " ".join(f"{r.rate:.0f}" for r in timed.copying),
        ),
        ("least bot, reports/s (rounds)", " ".join(f"{r.rate:.0f}" for r in timed.least)),
        ("app, reports/s (rounds)", " ".join(f"{r.rate:.1f}" for r in timed.app)),
        ("echo bot, median", f"{ceiling.rate:.0f} msg/s, {ceiling.cpu_ms:.1f} ms CPU each"),
        (
            "echo bot sending a copy too, median",
            f"{two_sends.rate:.0f} msg/s, {two_sends.cpu_ms:.1f} ms CPU each",
        ),
        ("least bot, median", f"{least.rate:.0f} reports/s, {least.cpu_ms:.1f} ms CPU each"),
        (
            "app (sender unpaced), median",
            f"{app.rate:.1f} reports/s, {app.cpu_ms:.1f} ms CPU each",
        ),
        ("app / echo, per round", " ".join(f"{r:.3f}" for r in to_echo)),
        ("app / echo, median of rounds", f"{median(to_echo):.3f}  (target >= 0.5)"),
        (
            "app / echo sending a copy (two sends per text), median",
            f"{median(to_copying):.3f}  (rounds {to_copying[0]:.3f}-{to_copying[-1]:.3f})",
        ),
        (
            "echo sending a copy / echo, median (what two calls alone allow)",
            f"{median(ceiling_of_two):.3f}",
        ),
        (
            "least bot / echo, median (what the issue's rules allow on this stack)",
            f"{median(floor):.3f}  (rounds {floor[0]:.3f}-{floor[-1]:.3f})",
        ),
        ("app / least bot, median", f"{median(to_least):.3f}"),
        (
            "CPU a text with all its messages out, median: echo / least / app",
            " / ".join(f"{all_out(r):.2f} ms" for r in (timed.echo, timed.least, timed.app)),
        ),
        (
            "messages sent per text within a round: echo / copying / least / app",
            " / ".join(f"{r.sends:.2f}" for r in (ceiling, two_sends, least, app)),
        ),
        ("  report -> ack min / p50 / p95 / max", spread(app.latencies)),
    ]
    if timed.paced is not None:
        rows.append(("app (sender paced, 30/s)", f"{timed.paced.rate:.1f} reports/s"))
    rows.append(("tickets persisted / reports sent", f"{timed.tickets} / {expected}"))
    table(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--echo", type=int, default=1000, help="texts per echo-bot round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--engineers", type=int, default=6, help="beside the seed's two")
    parser.add_argument(
        "--paced", action="store_true", help="one more round with the sender's 30/s pacing"
    )
    run_on_database(parser, bench)


if __name__ == "__main__":
    main()
