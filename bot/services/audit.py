"""Who changed whose role, who imported what; and the recent history for `/audit`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import Role
from bot.domain.invites import Invite
from bot.domain.ticket_flow import DomainError, NotAllowed
from bot.models import AuditEntry, Staff, Ticket, TicketEvent, Zone


class BadGrant(DomainError):
    code = "bad_grant"


def record(
    session: AsyncSession,
    clock: Clock,
    actor: Staff | None,
    action: str,
    subject: str,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            at=clock.now(),
            actor_id=actor.id if actor else None,
            action=action,
            subject=subject[:200],
            details=details,
        )
    )


async def find_staff(session: AsyncSession, who: str) -> Staff | None:
    """By Telegram id, else by exact name (case-insensitive)."""
    if who.isdigit():
        return await session.scalar(select(Staff).where(Staff.telegram_id == int(who)))
    found = (
        await session.scalars(select(Staff).where(func.lower(Staff.name) == who.lower()))
    ).all()
    return found[0] if len(found) == 1 else None


async def set_role(
    session: AsyncSession,
    clock: Clock,
    admin: Staff,
    staff: Staff,
    role: Role,
    zones: list[str],
) -> None:
    """An admin makes someone an engineer (with zones), supervisor, admin, or a plain reporter
    again; logged. An admin cannot demote themselves, so the desk never loses its last one."""
    if admin.role is not Role.ADMIN:
        raise NotAllowed(action="grant")
    if staff.id == admin.id and role is not Role.ADMIN:
        raise BadGrant(reason="self")
    found = list((await session.scalars(select(Zone).where(Zone.name.in_(zones)))).all())
    if role is Role.ENGINEER and (not zones or len(found) != len(set(zones))):
        raise BadGrant(reason="zones")
    before = staff.role
    staff.role = role
    if role is Role.ENGINEER:
        staff.zones = found
    else:
        staff.on_duty = False
    record(
        session,
        clock,
        admin,
        "role",
        staff.name,
        staff=staff.telegram_id,
        before=before.value,
        after=role.value,
        zones=sorted(z.name for z in found),
    )
    await session.flush()


class InviteUsed(DomainError):
    code = "invite_used"


async def join_by_invite(
    session: AsyncSession, clock: Clock, person: Staff, invite: Invite
) -> None:
    """Whoever opens a valid invite link becomes an engineer of its zones, once per link."""
    used = await session.scalar(
        select(AuditEntry.id).where(
            AuditEntry.action == "invite_used", AuditEntry.subject == invite.mac
        )
    )
    if used is not None or person.role in {Role.SUPERVISOR, Role.ADMIN}:
        raise InviteUsed()
    zones = list((await session.scalars(select(Zone).where(Zone.name.in_(invite.zones)))).all())
    if not zones:
        raise InviteUsed()
    before = person.role
    person.role = Role.ENGINEER
    person.zones = zones
    record(
        session, clock, person, "invite_used", invite.mac, before=before.value, zones=invite.zones
    )
    await session.flush()


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str | None
    what: str


async def recent(session: AsyncSession, limit: int = 20) -> list[AuditLine]:
    """The latest role changes, imports and ticket moves, newest first."""
    names = {
        staff_id: name for staff_id, name in await session.execute(select(Staff.id, Staff.name))
    }
    entries = (
        await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    ).all()
    events = (
        await session.execute(
            select(TicketEvent, Ticket.id)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .order_by(TicketEvent.id.desc())
            .limit(limit)
        )
    ).all()
    lines = [
        AuditLine(e.at, names.get(e.actor_id or 0), f"{e.action} {e.subject} {e.details}")
        for e in entries
    ]
    lines += [
        AuditLine(
            ev.at,
            names.get(ev.actor_id or 0),
            f"#{number} {ev.action} {ev.from_status or ''}→{ev.to_status or ''}",
        )
        for ev, number in events
    ]
    return sorted(lines, key=lambda line: line.at, reverse=True)[:limit]
