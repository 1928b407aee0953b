"""A busy minute under Telegram's limits: time to the reporter's ack and the engineer's job push.

    python bench/burst.py [--reports 300] [--seconds 60] [--pattern even|bursts] [--bursts 6]
                          [--engineers 6] [--database-url postgresql://postgres@127.0.0.1/postgres]

--reports registered ward users each send one text report within --seconds, spread evenly or in
--bursts equal bursts, to the real app long-polling the fake Bot API (tests/fake_telegram.py)
with its limits on: more than 30 messages a second in all, or one a second to one chat, is
answered 429 + retry_after. Prints p50/p95/max of report -> ack ("접수되었습니다: #n") and
report -> the assigned engineer's "새 작업 #n", whether every one arrived exactly once, how many
429s the bot met, and this process's resident memory idle (after start) and at its peak during
the burst (the fake server and the simulated users live in the same process). SQLite by default;
--database-url names a PostgreSQL server on which a throwaway database is made and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections import Counter

from harness import (
    ACK,
    ACKED,
    NEW_JOB,
    Sent,
    backend,
    on_duty,
    reset_peak_rss,
    rss_mib,
    run_on_database,
    running,
    seed,
    spread,
    table,
    text,
)

from tests.fake_telegram import FakeTelegram

REPORTERS = 200_000
FAULTS = ["프린터 용지 걸림", "모니터 안 켜짐", "전자차트 접속 불가", "바코드 스캐너 고장"]


def offsets(reports: int, seconds: float, pattern: str, bursts: int) -> list[float]:
    if pattern == "even":
        return [n * seconds / reports for n in range(reports)]
    size = -(-reports // bursts)
    return [(n // size) * seconds / bursts for n in range(reports)]


def limit_kinds(tg: FakeTelegram) -> str:
    """How many 429s the fake answered, and for which limit: a send to a chat that had one
    less than a second before, or the overall rate."""
    per_chat = 0
    for hit in tg.throttled:
        chat = hit.params.get("chat_id")
        before = [
            c.at
            for c in tg.calls
            if c.params.get("chat_id") == chat and not c.failed and c.at < hit.at
        ]
        per_chat += bool(before) and hit.at - max(before) < 1.0
    overall = len(tg.throttled) - per_chat
    return f"{len(tg.throttled)} ({per_chat} per chat, {overall} overall)"


async def sample_rss(peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_mib()[0])
        await asyncio.sleep(0.1)


async def bench(url: str, args: argparse.Namespace) -> None:
    reporters = [REPORTERS + n for n in range(args.reports)]
    engineers = await seed(url, reporters, args.engineers)
    async with FakeTelegram() as tg, running(url, tg):
        await on_duty(tg, engineers)
        tg.enforce_limits(per_chat=1.0, overall=30.0)
        await asyncio.sleep(1.0)
        gc.collect()
        idle_rss = rss_mib()[0]
        hwm_reset = reset_peak_rss()
        peak, stop = [idle_rss], asyncio.Event()
        sampler = asyncio.create_task(sample_rss(peak, stop))
        sent = Sent(tg)
        reported: dict[int, float] = {}
        started = time.monotonic()
        for n, (user, offset) in enumerate(
            zip(
                reporters,
                offsets(args.reports, args.seconds, args.pattern, args.bursts),
                strict=True,
            )
        ):
            await asyncio.sleep(max(0.0, started + offset - time.monotonic()))
            reported[user] = time.monotonic()
            await tg.user(user).send_text(f"{FAULTS[n % len(FAULTS)]} ({n})")
        last_report = time.monotonic() - started
        reporter_chats, engineer_chats = set(reporters), set(engineers)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            acks = sent.matching(reporter_chats, lambda t: ACK in t)
            pushes = sent.matching(engineer_chats, lambda t: NEW_JOB.search(t) is not None)
            if len(acks) >= args.reports and len(pushes) >= args.reports:
                break
            await asyncio.sleep(0.05)
        done = time.monotonic() - started
        await asyncio.sleep(args.settle)  # anything sent twice would show up now
        stop.set()
        await sampler
        _, hwm = rss_mib()
        throttled = limit_kinds(tg)
    acks = sent.matching(reporter_chats, lambda t: ACK in t)
    pushes = sent.matching(engineer_chats, lambda t: NEW_JOB.search(t) is not None)
    ack_count = Counter(c.params["chat_id"] for c in acks)
    ticket_of = {}
    ack_latency = []
    for call in acks:
        user = call.params["chat_id"]
        if user not in ticket_of and (m := ACKED.search(text(call))):
            ticket_of[user] = int(m.group(1))
            ack_latency.append(call.at - reported[user])
    push_at: dict[int, list[float]] = {}
    for call in pushes:
        if m := NEW_JOB.search(text(call)):
            push_at.setdefault(int(m.group(1)), []).append(call.at)
    push_latency = [
        push_at[ticket][0] - reported[user]
        for user, ticket in ticket_of.items()
        if ticket in push_at
    ]
    every_message = Counter(
        (c.params["chat_id"], text(c))
        for c in sent.update()
        if c.params["chat_id"] in reporter_chats | engineer_chats
    )
    doubled = sum(1 for n in every_message.values() if n > 1)
    once = (
        len(ack_count) == args.reports
        and set(ack_count.values()) == {1}
        and len(push_at) == args.reports
        and all(len(v) == 1 for v in push_at.values())
        and doubled == 0
    )

    pattern = (
        "evenly"
        if args.pattern == "even"
        else f"in {args.bursts} bursts of {-(-args.reports // args.bursts)}"
    )
    table(
        [
            ("backend", backend(url)),
            (
                "reports",
                f"{args.reports} from {args.reports} users over {args.seconds:g} s, {pattern}",
            ),
            ("engineers on duty", f"{len(engineers)} in zones A, B, C"),
            ("fake Telegram limits", "30 msg/s overall, 1 msg/s per chat (429 + retry_after)"),
            ("last report sent / all delivered at", f"{last_report:.1f} s / {done:.1f} s"),
            ("report -> ack min / p50 / p95 / max", spread(ack_latency)),
            ("report -> engineer push min / p50 / p95 / max", spread(push_latency)),
            ("acks / pushes delivered", f"{len(acks)} / {len(pushes)}"),
            ("every message exactly once", f"{'yes' if once else 'NO'} ({doubled} doubled)"),
            ("429s met by the bot", throttled),
            ("RSS idle after start", f"{idle_rss:.0f} MiB"),
            (
                "RSS peak during the burst",
                f"{peak[0]:.0f} MiB sampled every 100 ms"
                + (f", VmHWM {hwm:.0f} MiB" if hwm_reset else ""),
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--pattern", choices=["even", "bursts"], default="even")
    parser.add_argument("--bursts", type=int, default=6)
    parser.add_argument("--engineers", type=int, default=6, help="beside the seed's two")
    parser.add_argument("--timeout", type=float, default=240.0, help="after the last report")
    parser.add_argument("--settle", type=float, default=3.0)
    run_on_database(parser, bench)


if __name__ == "__main__":
    main()
