"""Admins: `/grant WHO ROLE [ZONES]`, `/revoke WHO`, `/invite ZONES [HOURS]` and `/audit`."""

from datetime import timedelta

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.domain.enums import Role
from bot.domain.invites import invite_payload
from bot.filters import RoleIs
from bot.i18n import Translator
from bot.models import Staff, Zone
from bot.services.audit import find_staff, recent, record, set_role
from bot.unit_of_work import UnitOfWork

DEFAULT_INVITE_HOURS = 24


async def grant(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    clock: Clock,
    uow: UnitOfWork,
) -> None:
    words = (command.args or "").split()
    roles = {role.value: role for role in Role}
    if len(words) not in {2, 3} or words[1] not in roles:
        await message.answer(t("admin.grant_usage"))
        return
    await _change(message, session, staff, t, clock, uow, words[0], roles[words[1]], words[2:])


async def revoke(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    clock: Clock,
    uow: UnitOfWork,
) -> None:
    who = (command.args or "").strip()
    if not who:
        await message.answer(t("admin.revoke_usage"))
        return
    await _change(message, session, staff, t, clock, uow, who, Role.REPORTER, [])


async def _change(
    message: Message,
    session: AsyncSession,
    admin: Staff,
    t: Translator,
    clock: Clock,
    uow: UnitOfWork,
    who: str,
    role: Role,
    zones: list[str],
) -> None:
    person = await find_staff(session, who)
    if person is None:
        await message.answer(t("admin.unknown", who=who))
        return
    await set_role(session, clock, admin, person, role, zones[0].split(";") if zones else [])
    await uow.commit()
    await message.answer(t("admin.changed", name=person.name, role=role.value))


async def audit(
    message: Message, session: AsyncSession, t: Translator, clock: Clock, settings: Settings
) -> None:
    zone = settings.tz
    today = clock.now().astimezone(zone).date()
    lines = [t("admin.audit_header")]
    lines += [
        f"{t.moment(line.at, zone, today)} {line.actor or t('admin.system')}: {line.what}"
        for line in await recent(session)
    ]
    await message.answer("\n".join(lines)[:4000])


async def invite(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    uow: UnitOfWork,
) -> None:
    """`/invite ZONE[;ZONE] [HOURS]`: a one-time link that makes its opener an engineer."""
    words = (command.args or "").split()
    zones = words[0].split(";") if words else []
    known = set((await session.scalars(select(Zone.name).where(Zone.name.in_(zones)))).all())
    hours = words[1] if len(words) > 1 else str(DEFAULT_INVITE_HOURS)
    if not zones or set(zones) != known or not hours.isdigit() or not 0 < int(hours) <= 168:
        await message.answer(t("admin.invite_usage"))
        return
    expires = clock.now() + timedelta(hours=int(hours))
    payload = invite_payload(settings.link_secret(), zones, expires)
    username = settings.bot_username or (await bot.me()).username
    record(session, clock, staff, "invite", ";".join(zones), hours=int(hours))
    await uow.commit()
    await message.answer(
        t(
            "admin.invite_link",
            zones=", ".join(zones),
            hours=hours,
            url=f"https://t.me/{username}?start={payload}",
        )
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.ADMIN))
    router.message.register(grant, Command("grant"))
    router.message.register(revoke, Command("revoke"))
    router.message.register(audit, Command("audit"))
    router.message.register(invite, Command("invite"))
    return router
