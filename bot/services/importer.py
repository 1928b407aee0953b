"""CSV imports of departments, staff and assets: validated whole, then upserted in one go.

A bad row aborts the whole file with its line number and the reason, so a half-imported
roster never reaches the bot.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import SUPPORTED_LANGUAGES
from bot.domain.enums import AssetStatus, Role
from bot.models import Asset, Department, Staff, Zone


class ImportKind(StrEnum):
    DEPARTMENTS = "departments"
    STAFF = "staff"
    ASSETS = "assets"


COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.DEPARTMENTS: ("name", "zone", "priority"),
    ImportKind.STAFF: ("telegram_id", "name", "role", "department", "zones", "language"),
    ImportKind.ASSETS: (
        "code",
        "type",
        "model",
        "department",
        "location",
        "purchased_on",
        "status",
    ),
}
MAX_LENGTH: dict[ImportKind, dict[str, int]] = {
    ImportKind.DEPARTMENTS: {"name": 120, "zone": 80},
    ImportKind.STAFF: {"name": 120},
    ImportKind.ASSETS: {"code": 64, "type": 60, "model": 120, "location": 200},
}
"""Column widths of the tables the cells land in (PostgreSQL refuses anything longer)."""
_INTEGER = re.compile(r"-?[0-9]+")
_BIGINT = 2**63
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}


class ImportFailed(Exception):
    """A file that cannot be imported; `line` is 1-based as in a spreadsheet."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class ImportReport:
    kind: ImportKind
    created: int
    updated: int

    @property
    def rows(self) -> int:
        return self.created + self.updated


def read_rows(raw: bytes, kind: ImportKind) -> list[tuple[int, dict[str, str]]]:
    """Decode (UTF-8, else the CP949 that Korean Excel writes), check the header, strip cells."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp949")
        except UnicodeDecodeError:
            raise ImportFailed(1, "the file is neither UTF-8 nor CP949 text") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        expected = COLUMNS[kind]
        if sorted(header) != sorted(expected):
            raise ImportFailed(1, f"header must be {','.join(expected)}; got {','.join(header)}")
        rows = []
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                raise ImportFailed(line, f"expected {len(header)} cells, found {len(cells)}")
            row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
            if problem := _bad_cell(row, kind):
                raise ImportFailed(line, problem)
            rows.append((line, row))
    except csv.Error as exc:  # e.g. a cell over the csv module's 128 kB limit
        raise ImportFailed(max(reader.line_num, 1), f"not readable as CSV: {exc}") from None
    if not rows:
        raise ImportFailed(1, "the file has a header but no rows")
    return rows


def _bad_cell(row: dict[str, str], kind: ImportKind) -> str | None:
    """What no column may hold: control characters (PostgreSQL cannot even store U+0000), or
    more characters than its table column."""
    for column, value in row.items():
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            return f"{column} contains a control character"
        limit = MAX_LENGTH[kind].get(column)
        if limit is not None and len(value) > limit:
            return f"{column} is longer than {limit} characters"
    return None


def _required(row: dict[str, str], column: str) -> str:
    if not row[column]:
        raise ValueError(f"{column} is empty")
    return row[column]


def _choice(value: str, enum: type[StrEnum], column: str, default: StrEnum) -> Any:
    if not value:
        return default
    try:
        return enum(value.lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValueError(f"{column} {value!r} is not one of {allowed}") from None


def _flag(value: str, column: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{column} {value!r} must be 1 or 0")


class Importer:
    def __init__(self, session: AsyncSession, clock: Clock, default_language: str) -> None:
        self.session = session
        self.clock = clock
        self.default_language = default_language

    async def import_file(self, kind: ImportKind, path: Path) -> ImportReport:
        return await self.import_bytes(kind, path.read_bytes())

    async def import_bytes(self, kind: ImportKind, raw: bytes) -> ImportReport:
        rows = read_rows(raw, kind)
        apply: Callable[[dict[str, str]], Any] = {
            ImportKind.DEPARTMENTS: self._department,
            ImportKind.STAFF: self._staff,
            ImportKind.ASSETS: self._asset,
        }[kind]
        key_column = COLUMNS[kind][0]
        seen: dict[str, int] = {}
        created = updated = 0
        for line, row in rows:
            key = row[key_column].lower()
            if kind is ImportKind.STAFF and _INTEGER.fullmatch(key):
                key = str(int(key))  # 012 and 12 are one person
            if key in seen:
                raise ImportFailed(
                    line, f"{key_column} {row[key_column]!r} repeats line {seen[key]}"
                )
            seen[key] = line
            try:
                is_new = await apply(row)
            except ValueError as exc:
                raise ImportFailed(line, str(exc)) from None
            created += is_new
            updated += not is_new
        await self.session.flush()
        return ImportReport(kind, created, updated)

    async def _zone(self, name: str, *, create: bool) -> Zone:
        zone = await self.session.scalar(select(Zone).where(Zone.name == name))
        if zone is None:
            if not create:
                raise ValueError(f"zone {name!r} is unknown: import the departments that use it")
            zone = Zone(name=name)
            self.session.add(zone)
        return zone

    async def _department_named(self, name: str) -> Department:
        department = await self.session.scalar(select(Department).where(Department.name == name))
        if department is None:
            raise ValueError(f"department {name!r} is unknown: import departments first")
        return department

    async def _department(self, row: dict[str, str]) -> bool:
        name = _required(row, "name")
        zone = await self._zone(_required(row, "zone"), create=True)
        priority = _flag(row["priority"], "priority")
        department = await self.session.scalar(select(Department).where(Department.name == name))
        is_new = department is None
        if department is None:
            department = Department(name=name)
            self.session.add(department)
        department.zone = zone
        department.priority = priority
        await self.session.flush()
        return is_new

    async def _staff(self, row: dict[str, str]) -> bool:
        raw_id = _required(row, "telegram_id")
        if not _INTEGER.fullmatch(raw_id) or not -_BIGINT <= int(raw_id) < _BIGINT:
            raise ValueError(f"telegram_id {raw_id!r} is not a number")
        role = _choice(row["role"], Role, "role", Role.REPORTER)
        language = row["language"].lower() or self.default_language
        if language not in SUPPORTED_LANGUAGES:
            raise ValueError(
                f"language {language!r} is not one of {', '.join(SUPPORTED_LANGUAGES)}"
            )
        department = await self._department_named(row["department"]) if row["department"] else None
        zone_names = [z.strip() for z in row["zones"].split(";") if z.strip()]
        if role is Role.ENGINEER and not zone_names:
            raise ValueError("an engineer needs at least one zone")
        zones = [await self._zone(name, create=False) for name in dict.fromkeys(zone_names)]
        staff = await self.session.scalar(select(Staff).where(Staff.telegram_id == int(raw_id)))
        is_new = staff is None
        if staff is None:
            staff = Staff(telegram_id=int(raw_id), created_at=self.clock.now())
            self.session.add(staff)
        staff.name = _required(row, "name")
        staff.role = role
        staff.department = department
        staff.language = language
        staff.zones = zones
        await self.session.flush()
        return is_new

    async def _asset(self, row: dict[str, str]) -> bool:
        code = _required(row, "code")
        department = await self._department_named(_required(row, "department"))
        purchased = row["purchased_on"]
        try:
            purchased_on = date.fromisoformat(purchased) if purchased else None
        except ValueError:
            raise ValueError(f"purchased_on {purchased!r} is not a date like 2024-03-31") from None
        asset = await self.session.scalar(select(Asset).where(Asset.code == code))
        is_new = asset is None
        if asset is None:
            asset = Asset(code=code)
            self.session.add(asset)
        asset.type = _required(row, "type").lower()
        asset.model = _required(row, "model")
        asset.department = department
        asset.location = row["location"]
        asset.purchased_on = purchased_on
        asset.status = _choice(row["status"], AssetStatus, "status", AssetStatus.IN_SERVICE)
        await self.session.flush()
        return is_new
