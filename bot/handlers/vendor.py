"""Sending a device to an outside vendor, and taking it back with the vendor's result."""

from datetime import date
from decimal import Decimal
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.clock import Clock
from bot.domain.enums import Role
from bot.domain.repairs import VendorResult, parse_amount, parse_return_date
from bot.domain.ticket_flow import Action
from bot.filters import RoleIs
from bot.handlers.forms import Form, Step, ticket_form
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import ReceiveCb, TicketCb, receive_keyboard
from bot.models import Staff
from bot.services.jobs import JobService
from bot.services.tickets import TicketService
from bot.unit_of_work import UnitOfWork

UNKNOWN = "-"


class SendOutForm(StatesGroup):
    vendor = State()
    expected = State()


class ReceiveForm(StatesGroup):
    cost = State()


def _vendor(raw: str, clock: Clock) -> str:
    name = raw.strip()
    if not name or len(name) > 120:
        raise ValueError(raw)
    return name


def _expected(raw: str, clock: Clock) -> str:
    if raw == UNKNOWN:
        return ""
    today = clock.now().date()
    promised = parse_return_date(raw, today)
    if promised < today:
        raise ValueError(raw)
    return promised.isoformat()


def _cost(raw: str, clock: Clock) -> str:
    return str(parse_amount(raw))


def _answers(value: str, key: str) -> Any:
    return lambda t: [(value, t(key))]


async def _send_out(target: Message, data: dict[str, Any], handler: dict[str, Any]) -> None:
    jobs: JobService = handler["jobs"]
    uow: UnitOfWork = handler["uow"]
    t: Translator = handler["t"]
    expected = date.fromisoformat(data["expected"]) if data["expected"] else None
    outcome = await jobs.send_out(handler["staff"], data["ticket_id"], data["vendor"], expected)
    await uow.commit(outcome.notices)
    await target.answer(
        t(
            "vendor.sent",
            number=data["ticket_id"],
            vendor=data["vendor"],
            expected=expected,
        )
    )


async def _receive(target: Message, data: dict[str, Any], handler: dict[str, Any]) -> None:
    jobs: JobService = handler["jobs"]
    uow: UnitOfWork = handler["uow"]
    t: Translator = handler["t"]
    result = VendorResult(data["result"])
    cost = Decimal(data["cost"])
    outcome = await jobs.receive(handler["staff"], data["ticket_id"], result, cost)
    await uow.commit(outcome.notices)
    await target.answer(t("vendor.received", number=data["ticket_id"], result=t.word(result)))


SEND_OUT = Form(
    [
        Step("vendor", SendOutForm.vendor, "vendor.ask_name", _vendor),
        Step(
            "expected",
            SendOutForm.expected,
            "vendor.ask_expected",
            _expected,
            _answers(UNKNOWN, "vendor.unknown_date"),
        ),
    ],
    _send_out,
)
RECEIVE = Form(
    [Step("cost", ReceiveForm.cost, "vendor.ask_cost", _cost, _answers("0", "report.no_cost"))],
    _receive,
)


async def start_receive(
    callback: CallbackQuery,
    callback_data: TicketCb,
    staff: Staff,
    t: Translator,
    tickets: TicketService,
) -> None:
    ticket = await tickets.check(staff, callback_data.ticket_id, Action.RECEIVE)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            t("vendor.ask_result", number=ticket.number),
            reply_markup=receive_keyboard(t, ticket.id),
        )


async def result_picked(
    callback: CallbackQuery,
    callback_data: ReceiveCb,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    tickets: TicketService,
) -> None:
    await tickets.check(staff, callback_data.ticket_id, Action.RECEIVE)
    await set_buttons(callback, None)
    await RECEIVE.start_from(
        callback, state, t, ticket_id=callback_data.ticket_id, result=callback_data.result.value
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(RoleIs(Role.ENGINEER))
    router.callback_query.filter(RoleIs(Role.ENGINEER))
    router.callback_query.register(
        ticket_form(Action.SEND_OUT, SEND_OUT), TicketCb.filter(F.action == Action.SEND_OUT)
    )
    router.callback_query.register(start_receive, TicketCb.filter(F.action == Action.RECEIVE))
    router.callback_query.register(result_picked, ReceiveCb.filter())
    SEND_OUT.register(router)
    RECEIVE.register(router)
    return router
