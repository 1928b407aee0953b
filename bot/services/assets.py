"""Finding devices by the code on their label."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deeplinks import asset_code_from_scan
from bot.intake.listening import HospitalNames
from bot.models import Asset, Department


async def asset_by_code(session: AsyncSession, code: str) -> Asset | None:
    """Exact code first; labels typed or read in another case still find their device."""
    asset = await session.scalar(select(Asset).where(Asset.code == code))
    if asset is None:
        asset = await session.scalar(select(Asset).where(func.upper(Asset.code) == code.upper()))
    return asset


async def asset_from_scans(
    session: AsyncSession, texts: list[str]
) -> tuple[Asset | None, str | None]:
    """The first scanned text naming a known device, else (None, the first code read)."""
    codes = [asset_code_from_scan(text) for text in texts]
    for code in codes:
        asset = await asset_by_code(session, code)
        if asset is not None:
            return asset, code
    return None, codes[0] if codes else None


async def assets_to_label(
    session: AsyncSession, department: str | None, codes: Sequence[str]
) -> list[Asset]:
    """Devices for a label sheet: the named codes, or a department's, or all; by code."""
    query = select(Asset).join(Department).order_by(Asset.code)
    if department is not None:
        query = query.where(Department.name == department)
    if codes:
        query = query.where(Asset.code.in_(codes))
    found = list((await session.scalars(query)).all())
    missing = set(codes) - {asset.code for asset in found}
    if missing:
        raise LookupError(f"unknown asset codes: {', '.join(sorted(missing))}")
    return found


async def hospital_names(session: AsyncSession) -> HospitalNames:
    departments = (await session.scalars(select(Department.name).order_by(Department.name))).all()
    types = (await session.scalars(select(Asset.type).distinct().order_by(Asset.type))).all()
    models = (await session.scalars(select(Asset.model).distinct())).all()
    locations = (await session.scalars(select(Asset.location).distinct())).all()
    extras = sorted({name for name in (*models, *locations) if name})
    return HospitalNames(tuple(departments), tuple(types), tuple(extras))
