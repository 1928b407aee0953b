"""The asset life cycle over the database: every status change checked and logged."""

from collections.abc import Collection

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import ASSET_MOVES, AssetStatus, Role
from bot.domain.ticket_flow import DomainError, NotAllowed
from bot.models import Asset, AssetEvent, Staff


class AssetMoveRefused(DomainError):
    code = "asset_move_refused"


def move_asset(
    session: AsyncSession,
    clock: Clock,
    asset: Asset,
    to: AssetStatus,
    actor: Staff | None,
    reason: str,
    ticket_id: int | None = None,
) -> None:
    """Move `asset` to `to`, or AssetMoveRefused naming the current status."""
    if asset.status == to:
        return
    if to not in ASSET_MOVES[asset.status]:
        raise AssetMoveRefused(ticket_id, asset=asset.code, status=asset.status.value)
    record_move(session, clock, asset, asset.status, to, actor, reason, ticket_id)
    asset.status = to


async def claim(
    session: AsyncSession,
    clock: Clock,
    asset_id: int,
    before: AssetStatus,
    to: AssetStatus,
    actor: Staff,
    reason: str,
    ticket_id: int | None,
) -> Asset | None:
    """Move the asset only if it is still `before`, in one conditional UPDATE, so two people
    (or two replicas) pressing at once cannot both lend the same spare; None if it was not."""
    assert to in ASSET_MOVES[before]
    claimed = await session.execute(
        update(Asset).where(Asset.id == asset_id, Asset.status == before).values(status=to)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    asset = await session.get(Asset, asset_id, populate_existing=True)
    assert asset is not None
    record_move(session, clock, asset, before, to, actor, reason, ticket_id)
    return asset


def record_move(
    session: AsyncSession,
    clock: Clock,
    asset: Asset,
    before: AssetStatus,
    to: AssetStatus,
    actor: Staff | None,
    reason: str,
    ticket_id: int | None,
) -> None:
    session.add(
        AssetEvent(
            asset_id=asset.id,
            at=clock.now(),
            actor_id=None if actor is None else actor.id,
            from_status=before,
            to_status=to,
            reason=reason,
            ticket_id=ticket_id,
        )
    )


def follow(
    session: AsyncSession,
    clock: Clock,
    asset: Asset | None,
    to: AssetStatus,
    *,
    when: Collection[AssetStatus],
    actor: Staff | None,
    reason: str,
    ticket_id: int | None,
) -> None:
    """A ticket's step carries its device along, but only from the statuses that step implies
    (a device a supervisor already scrapped stays scrapped)."""
    if asset is not None and asset.status in when:
        move_asset(session, clock, asset, to, actor, reason, ticket_id)


MANUAL_TARGETS = frozenset({AssetStatus.IN_SERVICE, AssetStatus.SPARE, AssetStatus.SCRAPPED})
"""Where IT staff may move a device by hand; repair, vendor and loan states follow the jobs."""


def manual_moves(asset: Asset) -> list[AssetStatus]:
    return [s for s in AssetStatus if s in MANUAL_TARGETS and s in ASSET_MOVES[asset.status]]


def change_status(
    session: AsyncSession, clock: Clock, staff: Staff, asset: Asset, to: AssetStatus, reason: str
) -> None:
    """An engineer or supervisor retires a device, puts it in the spare pool or back in use."""
    if staff.role is Role.REPORTER or to not in MANUAL_TARGETS:
        raise NotAllowed(action="asset_status")
    move_asset(session, clock, asset, to, staff, reason)
