"""Devices: finding them by the code on their label, and their card with its history."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.deeplinks import asset_code_from_scan
from bot.domain.enums import OPEN_STATUSES, TicketStatus
from bot.intake.listening import HospitalNames
from bot.models import (
    Asset,
    AssetEvent,
    Department,
    RepairReport,
    SpareLoan,
    Ticket,
    VendorRepair,
)


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


@dataclass(frozen=True)
class RepairLine:
    number: int
    opened: datetime
    status: TicketStatus
    description: str
    resolution: str | None
    cost: Decimal


@dataclass(frozen=True)
class AssetCard:
    """Everything the desk knows about one device, for `/asset` and the web page."""

    asset: Asset
    open_ticket: Ticket | None
    repairs: list[RepairLine]
    total_cost: Decimal
    events: list[AssetEvent]
    loan: SpareLoan | None


HISTORY = 10


async def asset_card(session: AsyncSession, asset: Asset) -> AssetCard:
    tickets = (
        await session.scalars(
            select(Ticket).where(Ticket.asset_id == asset.id).order_by(Ticket.id.desc())
        )
    ).all()
    ids = [t.id for t in tickets]
    costs: dict[int, Decimal] = {}
    for model in (RepairReport, VendorRepair):
        rows = await session.execute(
            select(model.ticket_id, func.coalesce(func.sum(model.cost), 0))
            .where(model.ticket_id.in_(ids))
            .group_by(model.ticket_id)
        )
        for ticket_id, amount in rows:
            costs[ticket_id] = costs.get(ticket_id, Decimal(0)) + Decimal(amount or 0)
    repairs = [
        RepairLine(
            t.number,
            t.created_at,
            t.status,
            t.description,
            t.resolution,
            costs.get(t.id, Decimal(0)),
        )
        for t in tickets
    ]
    events = (
        await session.scalars(
            select(AssetEvent)
            .where(AssetEvent.asset_id == asset.id)
            .order_by(AssetEvent.id.desc())
            .limit(HISTORY)
        )
    ).all()
    loan = await session.scalar(
        select(SpareLoan).where(SpareLoan.spare_id == asset.id, SpareLoan.returned_at.is_(None))
    )
    open_ticket = next(
        (t for t in tickets if t.status in OPEN_STATUSES or t.status is TicketStatus.RESOLVED),
        None,
    )
    return AssetCard(
        asset, open_ticket, repairs[:HISTORY], sum(costs.values(), Decimal(0)), list(events), loan
    )
