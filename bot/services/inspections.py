"""Preventive inspections: a device whose type has an interval in the SLA policy gets an
inspection ticket in its zone when the interval since its last inspection has passed."""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import exists, func, select

from bot.domain.enums import OPEN_STATUSES, AssetStatus, TicketKind, Urgency
from bot.models import Asset, Ticket
from bot.services.tickets import Outcome, TicketService
from bot.sla.policy import SlaPolicy

INSPECTION_LOCK = 0x696E_7370_6563  # "inspec": one process opens inspections at a time


async def open_due_inspections(
    tickets: TicketService,
    policy: SlaPolicy,
    per_day: int,
    describe: Callable[[timedelta], str],
) -> Outcome:
    """Open inspection tickets for due devices, longest-uninspected first, at most `per_day`
    in any 24 hours so that a newly added interval does not bury the engineers at once.
    `describe` words a ticket's description from its interval, in the hospital's language:
    like a reporter's, it is stored, and read in lists, the dashboard and the export."""
    session, now = tickets.session, tickets.clock.now()
    outcome = Outcome()
    if not policy.inspection or per_day <= 0:
        return outcome
    if session.get_bind().dialect.name == "postgresql" and not await session.scalar(
        select(func.pg_try_advisory_xact_lock(INSPECTION_LOCK))
    ):
        return outcome
    opened_lately = await session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.kind == TicketKind.INSPECTION, Ticket.created_at > now - timedelta(days=1))
    )
    room = per_day - (opened_lately or 0)
    if room <= 0:
        return outcome
    pending = exists().where(
        Ticket.asset_id == Asset.id,
        Ticket.kind == TicketKind.INSPECTION,
        Ticket.status.in_(OPEN_STATUSES),
    )
    due: list[tuple[Asset, timedelta]] = []
    for asset_type, interval in policy.inspection.items():
        rows = await session.scalars(
            select(Asset)
            .where(
                func.lower(Asset.type) == asset_type,
                Asset.status == AssetStatus.IN_SERVICE,
                (Asset.inspected_at.is_(None)) | (Asset.inspected_at <= now - interval),
                ~pending,
            )
            .order_by(Asset.inspected_at.is_not(None), Asset.inspected_at, Asset.code)
            .limit(room)
        )
        due.extend((asset, interval) for asset in rows.all())
    due.sort(
        key=lambda pair: (
            pair[0].inspected_at is not None,
            pair[0].inspected_at or now,
            pair[0].code,
        )
    )
    for asset, interval in due[:room]:
        opened = await tickets.report(
            None,
            describe(interval),
            Urgency.LOW,
            asset=asset,
            kind=TicketKind.INSPECTION,
        )
        outcome.notices.extend(opened.notices)
    return outcome
