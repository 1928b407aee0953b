"""Risk-based ETAs: the simulation alone, the service over a seeded database, the calibration.

    python bench/risk.py [--database-url URL] [--history 20000] [--open 200] [--runs 30]

(a) `simulate` with --open open tickets, 8 engineers in 3 zones and 1,000 replications (median
and p95 over --runs runs). (b) `RiskService.assess` on a fresh database (a temporary SQLite file
by default; a PostgreSQL URL is used as given and must point at an empty, disposable database)
seeded with --open open tickets and --history resolved ones. (c) The calibration error on
simulated hospitals where the truth is known (the study in tests/test_risk.py), with its
reliability table: predicted OTP against how often tickets were really on time.
"""

import argparse
import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select, update

from bot.clock import SystemClock
from bot.db import create_engine, create_sessionmaker
from bot.domain.enums import Role, TicketStatus, Urgency
from bot.migrate import upgrade
from bot.models import Department, Staff, Ticket
from bot.risk.service_times import estimate_service_times
from bot.risk.simulate import EngineerState, OpenJob, simulate
from bot.services.importer import Importer, ImportKind
from bot.services.risk import RiskService
from bot.sla.policy import load_policy

ZONES = "ABC"
DEVICES = ("pc", "printer", "monitor", "kiosk", "label_printer", "scanner")
FAULTS = ("general", "network", "hardware")
WAITING = (TicketStatus.NEW, TicketStatus.ASSIGNED)
MEDIANS = {d: 20.0 + 15.0 * n for n, d in enumerate(DEVICES)}
DEPARTMENTS = "name,zone,priority\n" + "\n".join(
    f"병동 {n:02d},{ZONES[n % 3]},{int(n < 3)}" for n in range(30)
)
STAFF = "telegram_id,name,role,department,zones,language\n" + "\n".join(
    [f"{100 + n},엔지니어{n},engineer,,{ZONES[n % 3]},ko" for n in range(8)]
    + [f"{200 + n},간호사{n},reporter,병동 {n:02d},,ko" for n in range(30)]
)


def timed(label: str, runs: int, work: Callable[[], object]) -> None:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        took.append(time.perf_counter() - started)
    p95 = float(np.percentile(took, 95))
    print(f"{label:52s} median {statistics.median(took) * 1e3:7.1f} ms   p95 {p95 * 1e3:7.1f} ms")


def work_minutes(rng: random.Random, device: str) -> float:
    return rng.lognormvariate(math.log(MEDIANS[device]), 0.7)


def pure_case(open_count: int) -> tuple[list[OpenJob], list[EngineerState], datetime]:
    rng = random.Random(7)
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    engineers = [EngineerState(n, frozenset({ZONES[n % 3]}), on_duty=True) for n in range(8)]
    jobs = []
    for ticket_id in range(open_count):
        started = ticket_id < 16  # two accepted jobs per engineer
        created = now - timedelta(minutes=rng.uniform(0, 600))
        jobs.append(
            OpenJob(
                ticket_id=ticket_id,
                engineer_id=ticket_id % 8 if started else None,
                zone=ZONES[ticket_id % 8 % 3] if started else rng.choice(ZONES),
                started=started,
                elapsed_minutes=rng.uniform(0, 60) if started else 0.0,
                priority=rng.random() < 0.1,
                urgency=rng.choice(list(Urgency)),
                created_at=created,
                deadline=created + timedelta(hours=rng.choice([1, 2, 4, 24])),
                device_type=rng.choice(DEVICES),
                fault_type=rng.choice(FAULTS),
            )
        )
    return jobs, engineers, now


def bench_simulate(open_count: int, runs: int) -> None:
    jobs, engineers, now = pure_case(open_count)
    rng = random.Random(1)
    history = [
        (d, f, work_minutes(rng, d))
        for d, f in ((rng.choice(DEVICES), rng.choice(FAULTS)) for _ in range(5000))
    ]
    times = estimate_service_times(history)
    report = simulate(jobs, engineers, times, now, 1000, np.random.default_rng(0))
    timed(
        f"(a) simulate: {open_count} tickets, 8 engineers, 1000 reps",
        runs,
        lambda: simulate(jobs, engineers, times, now, 1000, np.random.default_rng(0)),
    )
    print(f"    delay possibility {report.delay_possibility:.3f}")


async def seed(url: str, total: int, open_count: int) -> None:
    engine = create_engine(url)
    clock = SystemClock()
    async with create_sessionmaker(engine)() as session, session.begin():
        importer = Importer(session, clock, "ko")
        await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS.encode())
        await importer.import_bytes(ImportKind.STAFF, STAFF.encode())
        await session.execute(update(Staff).where(Staff.role == Role.ENGINEER).values(on_duty=True))
    async with create_sessionmaker(engine)() as session:
        departments = (await session.scalars(select(Department.id))).all()
        engineers = (
            await session.scalars(select(Staff.id).where(Staff.role == Role.ENGINEER))
        ).all()
    now = datetime.now(UTC)
    rng = random.Random(7)
    rows = []
    statuses = [*WAITING, TicketStatus.ACCEPTED, TicketStatus.ON_SITE]
    for n in range(total + open_count):
        device = rng.choice(DEVICES)
        is_open = n < open_count
        created = now - (
            timedelta(minutes=rng.uniform(5, 600))
            if is_open
            else timedelta(days=rng.uniform(0, 120))
        )
        status = rng.choice(statuses) if is_open else TicketStatus.CLOSED
        accepted = created + timedelta(minutes=rng.uniform(1, 30))
        away = not is_open and rng.random() < 0.05
        vendor_days = timedelta(days=rng.uniform(1, 10)) if away else timedelta()
        resolved = accepted + timedelta(minutes=work_minutes(rng, device)) + vendor_days
        rows.append(
            {
                "department_id": rng.choice(departments),
                "description": "벤치마크 고장",
                "urgency": rng.choice(list(Urgency)),
                "fault_type": rng.choice(FAULTS),
                "device_type": device,
                "status": status,
                "assignee_id": None if status is TicketStatus.NEW else rng.choice(engineers),
                "created_at": created,
                "assigned_at": None if status is TicketStatus.NEW else created,
                "accepted_at": None if status in WAITING else accepted,
                "sent_out_at": accepted + timedelta(minutes=10) if away else None,
                "back_at": accepted + timedelta(minutes=10) + vendor_days if away else None,
                "resolved_at": None if is_open else resolved,
                "closed_at": None if is_open else resolved + timedelta(hours=1),
                "updated_at": created,
                "version": 1,
            }
        )
    async with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(Ticket), rows[start : start + 5000])
    await engine.dispose()


async def bench_service(url: str, runs: int) -> None:
    engine = create_engine(url)
    risk_policy = load_policy(None)
    clock = SystemClock()
    async with create_sessionmaker(engine)() as session:
        risk = RiskService(session, clock, risk_policy)
        for label, work in (
            ("(b) service_times (history window)", risk.service_times),
            ("    snapshot (open tickets, roster)", risk.snapshot),
            ("    assess (both reads + simulate, 1000 reps)", lambda: risk.assess(seed=1)),
        ):
            took = []
            for _ in range(runs):
                started = time.perf_counter()
                await work()
                took.append(time.perf_counter() - started)
            print(
                f"{label:52s} median {statistics.median(took) * 1e3:7.1f} ms"
                f"   p95 {float(np.percentile(took, 95)) * 1e3:7.1f} ms"
            )
        times = await risk.service_times()
        jobs, roster = await risk.snapshot()
        report = await risk.assess(seed=1)
        print(
            f"    {times.samples} history samples, {len(jobs)} open tickets simulated, "
            f"{sum(e.on_duty for e in roster)} engineers on duty, "
            f"delay possibility {report.delay_possibility:.3f}"
        )
    await engine.dispose()


def bench_calibration() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.test_risk import ECE_LIMIT, calibration_study

    started = time.perf_counter()
    study = calibration_study()
    took = time.perf_counter() - started
    known = calibration_study(known=True)
    count = sum(b.count for b in study.bins)
    print(
        f"(c) calibration, {count} tickets: ECE {study.ece:.4f} fitted on 1500 history jobs, "
        f"{known.ece:.4f} with the true parameters (limit {ECE_LIMIT}; {took:.1f} s)"
    )
    print(f"    {'bin':>11s} {'predicted':>10s} {'observed':>9s} {'count':>6s}")
    for row in study.bins:
        print(
            f"    {row.low:4.1f} - {row.high:3.1f} {row.predicted:10.3f} {row.observed:9.3f}"
            f" {row.count:6d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--history", type=int, default=20_000)
    parser.add_argument("--open", type=int, default=200)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    bench_simulate(args.open, args.runs)
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    started = time.perf_counter()
    asyncio.run(seed(url, args.history, args.open))
    took = time.perf_counter() - started
    print(
        f"    seeded {args.history} resolved + {args.open} open tickets in {took:.1f} s "
        f"on {url.split(':')[0]}"
    )
    asyncio.run(bench_service(url, max(args.runs // 3, 5)))
    bench_calibration()


if __name__ == "__main__":
    main()
