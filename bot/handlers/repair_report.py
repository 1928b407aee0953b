"""Resolving a job: a short guided repair report (cause, action, parts, cost, time spent)."""

from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot.clock import Clock
from bot.domain.enums import Role
from bot.domain.repairs import Cause, RepairDetails, parse_amount, parse_minutes
from bot.domain.ticket_flow import Action
from bot.filters import RoleIs
from bot.handlers.forms import Form, Step, ticket_form
from bot.i18n import Translator
from bot.keyboards import TicketCb, cause_answers, kb_keyboard, time_answers
from bot.services.jobs import JobService
from bot.unit_of_work import UnitOfWork


class RepairForm(StatesGroup):
    cause = State()
    action = State()
    parts = State()
    cost = State()
    minutes = State()


NONE = "-"


def _cause(raw: str, clock: Clock) -> str:
    return Cause(raw).value


def _parts(raw: str, clock: Clock) -> str:
    return "" if raw == NONE else raw.strip()[:500]


def _cost(raw: str, clock: Clock) -> str:
    return str(parse_amount(raw))


def _minutes(raw: str, clock: Clock) -> int:
    return parse_minutes(raw)


async def _resolve(target: Message, data: dict[str, Any], handler: dict[str, Any]) -> None:
    jobs: JobService = handler["jobs"]
    uow: UnitOfWork = handler["uow"]
    t: Translator = handler["t"]
    details = RepairDetails(
        cause=Cause(data["cause"]),
        action=data["action"],
        parts=data["parts"],
        cost=Decimal(data["cost"]),
        minutes=int(data["minutes"]),
    )
    number = int(data["ticket_id"])
    outcome = await jobs.resolve(handler["staff"], number, details)
    await uow.commit(outcome.notices)
    await target.answer(
        t(
            "report.done",
            number=number,
            cause=t.word(details.cause),
            action=details.action,
            parts=details.parts or t("common.none"),
            cost=t.money(details.cost),
            minutes=details.minutes,
        ),
        reply_markup=kb_keyboard(t, number),
    )


def _answers(*pairs: tuple[str, str]) -> Any:
    return lambda t: [(value, t(key)) for value, key in pairs]


REPORT = Form(
    [
        Step("cause", RepairForm.cause, "report.ask_cause", _cause, cause_answers, typed=False),
        Step("action", RepairForm.action, "report.ask_action"),
        Step(
            "parts",
            RepairForm.parts,
            "report.ask_parts",
            _parts,
            _answers((NONE, "report.no_parts")),
        ),
        Step("cost", RepairForm.cost, "report.ask_cost", _cost, _answers(("0", "report.no_cost"))),
        Step("minutes", RepairForm.minutes, "report.ask_minutes", _minutes, time_answers),
    ],
    _resolve,
)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.ENGINEER))
    router.callback_query.filter(RoleIs(Role.ENGINEER))
    router.callback_query.register(
        ticket_form(Action.RESOLVE, REPORT), TicketCb.filter(F.action == Action.RESOLVE)
    )
    REPORT.register(router)
    return router
