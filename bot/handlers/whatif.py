"""`/whatif`: supervisors try a roster change before making it — one more engineer in a zone, or
an engineer moved to another zone — and see the delay possibility before and after."""

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.enums import Role
from bot.filters import RoleIs
from bot.i18n import Translator
from bot.models import Staff, Zone
from bot.risk.simulate import RiskReport, Roster, extra_engineer, move_engineer
from bot.services.risk import RiskService
from bot.sla.policy import SlaPolicy

NAME_ECHO = 120
"""At most this much of an unknown name is quoted back (a staff name's length), so a long one
cannot push the answer past Telegram's 4096 characters."""
SEED = 20261123
"""Fixed, so asking the same question twice gives the same answer."""


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _red(report: RiskReport) -> int:
    return sum(1 for risk in report.tickets.values() if risk.otp < 0.5)


async def what_if(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    t: Translator,
    clock: Clock,
    policy: SlaPolicy,
) -> None:
    words = (command.args or "").split()
    zones = list((await session.scalars(select(Zone.name).order_by(Zone.name))).all())
    roster: Roster | None = None
    change = ""
    if len(words) == 2 and words[0].lower() == "add" and words[1] in zones:
        roster, change = extra_engineer(words[1]), t("whatif.added", zone=words[1])
    elif len(words) >= 3 and words[0].lower() == "move" and words[-1] in zones:
        name = " ".join(words[1:-1])
        engineer = await session.scalar(
            select(Staff).where(Staff.role == Role.ENGINEER, func.lower(Staff.name) == name.lower())
        )
        if engineer is None:
            await message.answer(t("whatif.unknown_engineer", name=name[:NAME_ECHO]))
            return
        roster = move_engineer(engineer.id, words[-1])
        change = t("whatif.moved", name=engineer.name, zone=words[-1])
    risk = RiskService(session, clock, policy)
    if roster is None:
        now = await risk.assess(seed=SEED)
        await message.answer(
            t("whatif.usage", zones=", ".join(zones), delay=_percent(now.delay_possibility))
        )
        return
    before, after = await risk.compare(roster, seed=SEED)
    await message.answer(
        t(
            "whatif.result",
            change=change,
            before=_percent(before.delay_possibility),
            after=_percent(after.delay_possibility),
            red_before=_red(before),
            red_after=_red(after),
            tickets=len(before.tickets),
        )
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.SUPERVISOR, Role.ADMIN))
    router.message.register(what_if, Command("whatif"))
    return router
