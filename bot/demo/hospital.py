"""The demo's sample hospital: departments, staff and a few hundred devices, loaded through the
same CSV import an operator uses, so the demo exercises the real path."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import ConfigError
from bot.models import Staff
from bot.services.importer import Importer, ImportKind

DEPARTMENTS = (
    ("내과 병동", "A", False),
    ("응급실", "A", True),
    ("원무과", "A", False),
    ("재활의학과", "A", False),
    ("외과 병동", "B", False),
    ("중환자실", "B", True),
    ("수술실", "B", True),
    ("영상의학과", "B", False),
    ("소아과 병동", "C", False),
    ("산부인과 병동", "C", False),
    ("진단검사의학과", "C", False),
    ("약제부", "C", False),
)


@dataclass(frozen=True)
class Person:
    """Someone the demo page plays: a chat with the bot on screen."""

    telegram_id: int
    name: str
    role: str
    department: str = ""
    zones: str = ""


NURSE = Person(7001, "김간호", "reporter", department="내과 병동")
ENGINEER = Person(7002, "박엔지", "engineer", zones="A;C")
SUPERVISOR = Person(7003, "이팀장", "supervisor")
PEOPLE = (NURSE, ENGINEER, SUPERVISOR)
COLLEAGUES = (
    Person(7010, "정엔지", "engineer", zones="B;C"),
    Person(7011, "한엔지", "engineer", zones="A;B"),
    *(
        Person(7100 + n, f"{name[:2]} 간호사", "reporter", department=name)
        for n, (name, _, _) in enumerate(DEPARTMENTS)
    ),
)
"""History needs more hands than the three on screen; they never open the demo."""
ON_DUTY = (ENGINEER.telegram_id, COLLEAGUES[0].telegram_id)


@dataclass(frozen=True)
class DeviceKind:
    type: str
    prefix: str
    models: tuple[str, ...]
    per_department: int
    locations: tuple[str, ...]


DEVICE_KINDS = (
    DeviceKind(
        "pc", "PC", ("Dell OptiPlex 7090", "HP EliteDesk 800 G6"), 7, ("간호사실", "의사실")
    ),
    DeviceKind("모니터", "MN", ("LG 24MK430", "Samsung S24R350"), 5, ("간호사실", "의사실")),
    DeviceKind("프린터", "PR", ("HP LaserJet M404", "Canon LBP223"), 3, ("간호사실", "접수창구")),
    DeviceKind("라벨프린터", "LP", ("Zebra ZD421",), 1, ("처치실",)),
    DeviceKind("바코드스캐너", "SC", ("Honeywell 1472g",), 2, ("처치실", "간호사실")),
    DeviceKind("전화기", "PH", ("Avaya J139",), 3, ("간호사실", "접수창구")),
)
SPARES = (
    ("SP-PC", "pc", "Dell OptiPlex 7090", 3),
    ("SP-MN", "모니터", "LG 24MK430", 2),
    ("SP-PR", "프린터", "Canon LBP223", 1),
)


def _csv(header: str, rows: Sequence[tuple[object, ...]]) -> bytes:
    return "\n".join([header, *(",".join(str(c) for c in row) for row in rows)]).encode()


def departments_csv() -> bytes:
    return _csv("name,zone,priority", [(n, z, int(p)) for n, z, p in DEPARTMENTS])


def staff_csv() -> bytes:
    # No language: everyone speaks DEFAULT_LANGUAGE (the import's default).
    rows = [(p.telegram_id, p.name, p.role, p.department, p.zones, "") for p in PEOPLE + COLLEAGUES]
    return _csv("telegram_id,name,role,department,zones,language", rows)


def assets_csv() -> bytes:
    rows: list[tuple[object, ...]] = []
    counters = dict.fromkeys((kind.prefix for kind in DEVICE_KINDS), 0)
    for d, (department, _, _) in enumerate(DEPARTMENTS):
        for kind in DEVICE_KINDS:
            for n in range(kind.per_department):
                counters[kind.prefix] += 1
                code = f"{kind.prefix}-{counters[kind.prefix]:04d}"
                model = kind.models[(d + n) % len(kind.models)]
                location = kind.locations[n % len(kind.locations)]
                bought = f"{2019 + (d + n) % 5}-{1 + (d * 3 + n) % 12:02d}-01"
                rows.append((code, kind.type, model, department, location, bought, "in_service"))
    for prefix, type_, model, count in SPARES:
        rows += [
            (f"{prefix}{n + 1}", type_, model, "원무과", "IT 창고", "", "spare")
            for n in range(count)
        ]
    return _csv("code,type,model,department,location,purchased_on,status", rows)


async def load_hospital(session: AsyncSession, clock: Clock, language: str) -> None:
    """Import the roster and devices, then put the demo's engineers on duty."""
    importer = Importer(session, clock, language)
    await importer.import_bytes(ImportKind.DEPARTMENTS, departments_csv())
    await importer.import_bytes(ImportKind.STAFF, staff_csv())
    await importer.import_bytes(ImportKind.ASSETS, assets_csv())
    await session.execute(update(Staff).where(Staff.telegram_id.in_(ON_DUTY)).values(on_duty=True))


async def holds_sample(session: AsyncSession) -> bool:
    """True if a previous demo filled this database (it is then used as it is), False if it is
    empty; a database with anyone else in it is refused: the sample never mixes with a real
    hospital's data."""
    if await session.scalar(select(Staff.id).where(Staff.telegram_id == NURSE.telegram_id)):
        return True
    if await session.scalar(select(func.count(Staff.id))):
        raise ConfigError(
            "DATABASE_URL is invalid: the demo only uses an empty database or its own, and this "
            "one holds a hospital's staff"
        )
    return False
