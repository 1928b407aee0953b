"""CSV imports: idempotent upserts, all or nothing, errors with line numbers."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.enums import AssetStatus, Role
from bot.models import Asset, Department, Staff, Zone
from bot.services.importer import Importer, ImportFailed, ImportKind
from tests.conftest import ASSETS_CSV, DEPARTMENTS_CSV, STAFF_CSV, FakeClock


async def count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_import_then_reimport_is_idempotent(session: AsyncSession, clock: FakeClock) -> None:
    importer = Importer(session, clock, "ko")
    first = await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS_CSV.encode())
    assert (first.created, first.updated) == (5, 0)
    again = await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS_CSV.encode())
    assert (again.created, again.updated) == (0, 5)
    assert await count(session, Department) == 5
    assert await count(session, Zone) == 3
    er = await session.scalar(select(Department).where(Department.name == "응급실"))
    assert er is not None and er.priority and er.zone.name == "A"


async def test_staff_languages(session: AsyncSession, clock: FakeClock) -> None:
    """ko, en and zh in any case; empty is the default language."""
    rows = "1,A,reporter,,,ZH\n2,B,reporter,,,en\n3,C,reporter,,,\n"
    await Importer(session, clock, "ko").import_bytes(
        ImportKind.STAFF, ("telegram_id,name,role,department,zones,language\n" + rows).encode()
    )
    languages = await session.execute(select(Staff.telegram_id, Staff.language))
    assert sorted(map(tuple, languages)) == [(1, "zh"), (2, "en"), (3, "ko")]


async def test_staff_and_assets(session: AsyncSession, clock: FakeClock) -> None:
    importer = Importer(session, clock, "ko")
    await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS_CSV.encode())
    await importer.import_bytes(ImportKind.STAFF, STAFF_CSV.encode())
    await importer.import_bytes(ImportKind.ASSETS, ASSETS_CSV.encode())
    engineer = await session.scalar(select(Staff).where(Staff.telegram_id == 9002))
    assert engineer is not None
    assert (engineer.role, engineer.language, engineer.zone_names) == (Role.ENGINEER, "en", {"B"})
    nurse = await session.scalar(select(Staff).where(Staff.telegram_id == 5001))
    assert (
        nurse is not None and nurse.department is not None and nurse.department.name == "내과 병동"
    )
    printer = await session.scalar(select(Asset).where(Asset.code == "PR-0001"))
    assert printer is not None
    assert (printer.type, printer.status, printer.department.name) == (
        "printer",
        AssetStatus.IN_SERVICE,
        "응급실",
    )
    assert printer.purchased_on is not None and printer.purchased_on.year == 2021
    promoted = STAFF_CSV.replace(
        "5001,최간호,reporter,내과 병동,,ko", "5001,최간호,engineer,,A;B,en"
    )
    report = await importer.import_bytes(ImportKind.STAFF, promoted.encode())
    assert (report.created, report.updated) == (0, 4)
    await session.refresh(nurse)
    assert (nurse.role, nurse.zone_names, nurse.department) == (Role.ENGINEER, {"A", "B"}, None)


@pytest.mark.parametrize(
    ("kind", "csv", "line", "reason"),
    [
        (ImportKind.DEPARTMENTS, "name,zone\nER,A\n", 1, "header must be name,zone,priority"),
        (ImportKind.DEPARTMENTS, "name,zone,priority\nER,A,1\nICU,,1\n", 3, "zone is empty"),
        (ImportKind.DEPARTMENTS, "name,zone,priority\nER,A,maybe\n", 2, "priority 'maybe'"),
        (ImportKind.DEPARTMENTS, "name,zone,priority\nER,A,1\nOR,B\n", 3, "expected 3 cells"),
        (ImportKind.DEPARTMENTS, "name,zone,priority\nER,A,1\nER,B,0\n", 3, "repeats line 2"),
        (ImportKind.DEPARTMENTS, "name,zone,priority\n", 1, "no rows"),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\nabc,X,engineer,,A,ko\n",
            2,
            "telegram_id 'abc' is not a number",
        ),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\n1,X,boss,,A,ko\n",
            2,
            "role 'boss' is not one of",
        ),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\n1,X,engineer,,,ko\n",
            2,
            "needs at least one zone",
        ),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\n1,X,engineer,,Z,ko\n",
            2,
            "zone 'Z' is unknown",
        ),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\n1,X,reporter,Nowhere,,ko\n",
            2,
            "department 'Nowhere' is unknown",
        ),
        (
            ImportKind.STAFF,
            "telegram_id,name,role,department,zones,language\n1,X,reporter,,,fr\n",
            2,
            "language 'fr'",
        ),
        (
            ImportKind.ASSETS,
            "code,type,model,department,location,purchased_on,status\n"
            "A1,pc,M,응급실,,2024-13-01,in_service\n",
            2,
            "purchased_on '2024-13-01'",
        ),
        (
            ImportKind.ASSETS,
            "code,type,model,department,location,purchased_on,status\nA1,pc,M,응급실,,,broken\n",
            2,
            "status 'broken'",
        ),
    ],
)
async def test_bad_file_names_line_and_reason_and_imports_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    kind: ImportKind,
    csv: str,
    line: int,
    reason: str,
) -> None:
    async with sessionmaker() as session, session.begin():
        await Importer(session, clock, "ko").import_bytes(
            ImportKind.DEPARTMENTS, "name,zone,priority\n응급실,A,1\n".encode()
        )
    with pytest.raises(ImportFailed) as info:
        async with sessionmaker() as session, session.begin():  # as `repairbot import` does
            await Importer(session, clock, "ko").import_bytes(kind, csv.encode())
    assert info.value.line == line
    assert reason in info.value.reason
    async with sessionmaker() as session:
        counts = [await count(session, m) for m in (Department, Staff, Asset, Zone)]
    assert counts == [1, 0, 0, 1]


async def test_excel_cp949_and_bom_files(session: AsyncSession, clock: FakeClock) -> None:
    importer = Importer(session, clock, "ko")
    await importer.import_bytes(ImportKind.DEPARTMENTS, DEPARTMENTS_CSV.encode("cp949"))
    await importer.import_bytes(
        ImportKind.DEPARTMENTS, "\ufeff".encode() + DEPARTMENTS_CSV.encode()
    )
    names = set((await session.scalars(select(Department.name))).all())
    assert "응급실" in names and len(names) == 5
