"""SLA scan and daily summary against a large history.

    python bench/sla_summary.py [--database-url URL] [--tickets 100000] [--open 10000]

Seeds a fresh database (a temporary SQLite file by default; a PostgreSQL URL is used as given
and must point at an empty, disposable database), then prints the time of the reminder scan
(first run, which finds every overdue ticket, and a steady-state run) and of the summary.
"""

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from bot.clock import SystemClock
from bot.db import create_engine, create_sessionmaker
from bot.domain.enums import Role, TicketStatus, Urgency
from bot.migrate import upgrade
from bot.models import Department, Staff, Ticket
from bot.services.importer import Importer, ImportKind
from bot.services.sla import SlaService
from bot.services.summary import day_summary
from bot.sla.policy import load_policy

SEOUL = ZoneInfo("Asia/Seoul")
DEPARTMENTS = "name,zone,priority\n" + "\n".join(
    f"병동 {n:02d},{'ABCD'[n % 4]},{int(n < 3)}" for n in range(40)
)
STAFF = "telegram_id,name,role,department,zones,language\n" + "\n".join(
    [f"{100 + n},엔지니어{n},engineer,,{'ABCD'[n % 4]},ko" for n in range(8)]
    + [f"{200 + n},간호사{n},reporter,병동 {n:02d},,ko" for n in range(40)]
    + ["300,관리자,supervisor,,,ko"]
)


async def seed(url: str, total: int, open_count: int) -> None:
    engine = create_engine(url)
    clock = SystemClock()
    async with create_sessionmaker(engine)() as session, session.begin():
        importer = Importer(session, clock, "ko")
        await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS.encode())
        await importer.import_bytes(ImportKind.STAFF, STAFF.encode())
    async with create_sessionmaker(engine)() as session:
        departments = (await session.scalars(select(Department.id))).all()
        engineers = (
            await session.scalars(select(Staff.id).where(Staff.role == Role.ENGINEER))
        ).all()
        reporters = (
            await session.scalars(select(Staff.id).where(Staff.role == Role.REPORTER))
        ).all()
    now = datetime.now(UTC)
    rng = random.Random(7)
    rows = []
    for n in range(total):
        is_open = n < open_count
        created = (
            now - timedelta(hours=rng.uniform(1, 24))
            if is_open
            else now - timedelta(days=rng.uniform(0, 365))
        )
        status = (
            rng.choice([TicketStatus.ASSIGNED, TicketStatus.ACCEPTED])
            if is_open
            else TicketStatus.CLOSED
        )
        accepted = created + timedelta(minutes=rng.uniform(1, 30))
        resolved = accepted + timedelta(hours=rng.uniform(0.2, 6))
        rows.append(
            {
                "reporter_id": rng.choice(reporters),
                "department_id": rng.choice(departments),
                "description": "벤치마크 고장",
                "urgency": rng.choice(list(Urgency)),
                "fault_type": "general",
                "status": status,
                "assignee_id": rng.choice(engineers),
                "created_at": created,
                "assigned_at": created,
                "accepted_at": accepted if status is not TicketStatus.ASSIGNED else None,
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


async def measure(url: str) -> None:
    engine = create_engine(url)
    policy = load_policy(None)
    clock = SystemClock()
    sessionmaker = create_sessionmaker(engine)
    for label in ("scan, first (every overdue ticket alerted)", "scan, steady state"):
        async with sessionmaker() as session:
            started = time.perf_counter()
            notices = await SlaService(session, clock, policy).scan()
            await session.commit()
            print(f"{label:45s} {time.perf_counter() - started:8.3f} s  ({len(notices)} notices)")
    async with sessionmaker() as session:
        started = time.perf_counter()
        summary = await day_summary(session, datetime.now(SEOUL).date(), SEOUL)
        took = time.perf_counter() - started
        print(f"{'daily summary':45s} {took:8.3f} s  ({summary.received} received today)")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    upgrade(url)
    started = time.perf_counter()
    asyncio.run(seed(url, args.tickets, args.open))
    took = time.perf_counter() - started
    print(
        f"seeded {args.tickets} tickets ({args.open} open) in {took:.1f} s on {url.split(':')[0]}"
    )
    asyncio.run(measure(url))


if __name__ == "__main__":
    main()
