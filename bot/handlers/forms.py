"""Guided forms: a few questions in a row, each answered by a button or typed text.

A form is a list of steps; every answer is checked by the step's parser (a ValueError asks
again, politely), stored as JSON-safe data in the FSM, and the last answer calls `finish`.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot.clock import Clock
from bot.domain.ticket_flow import Action
from bot.filters import TEXT, Registered
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.keyboards import AnswerCb, FlowAction, FlowCb, TicketCb, abort_keyboard, answers_keyboard
from bot.models import Staff
from bot.services.tickets import TicketService

MAX_ANSWER = 2000
Parser = Callable[[str, Clock], object]
Answers = Callable[[Translator], Sequence[tuple[str, str]]]
Finish = Callable[[Message, dict[str, Any], dict[str, Any]], Awaitable[None]]


def text_answer(raw: str, clock: Clock) -> str:
    text = raw.strip()
    if not text or len(text) > MAX_ANSWER:
        raise ValueError(raw)
    return text


def no_answers(t: Translator) -> Sequence[tuple[str, str]]:
    return ()


@dataclass(frozen=True)
class Step:
    name: str
    state: State
    question: str
    """Catalog key of the question; `<question>_bad` is said when an answer does not parse."""
    parse: Parser = text_answer
    answers: Answers = no_answers
    typed: bool = True
    """False: only the buttons answer (a typed reply is asked to press one)."""


class Form:
    def __init__(self, steps: Sequence[Step], finish: Finish) -> None:
        self.steps = list(steps)
        self.finish = finish
        self._by_state = {step.state.state: index for index, step in enumerate(self.steps)}

    async def start(
        self, target: Message, state: FSMContext, t: Translator, **seed: object
    ) -> None:
        await state.set_state(self.steps[0].state)
        await state.set_data(dict(seed))
        await self._ask(target, self.steps[0], t, seed)

    async def start_from(
        self, callback: CallbackQuery, state: FSMContext, t: Translator, **seed: object
    ) -> None:
        """Start the form under the message whose button was pressed."""
        await callback.answer()
        if isinstance(callback.message, Message):
            await self.start(callback.message, state, t, **seed)

    async def _ask(self, target: Message, step: Step, t: Translator, data: dict[str, Any]) -> None:
        answers = step.answers(t)
        markup = answers_keyboard(t, answers) if answers else abort_keyboard(t)
        await target.answer(
            t(step.question, **{"number": data.get("ticket_id"), **data}), reply_markup=markup
        )

    async def _answer(
        self,
        raw: str,
        target: Message,
        state: FSMContext,
        t: Translator,
        clock: Clock,
        handler_data: dict[str, Any],
    ) -> None:
        index = self._by_state[str(await state.get_state())]
        step = self.steps[index]
        data = await state.get_data()
        try:
            value = step.parse(raw, clock)
        except ValueError:
            await target.answer(t(f"{step.question}_bad"))
            await self._ask(target, step, t, data)
            return
        data[step.name] = value
        if index + 1 < len(self.steps):
            await state.set_state(self.steps[index + 1].state)
            await state.set_data(data)
            await self._ask(target, self.steps[index + 1], t, data)
            return
        await self.finish(target, data, handler_data)
        await state.clear()

    async def typed(
        self, message: Message, state: FSMContext, t: Translator, clock: Clock, **rest: Any
    ) -> None:
        step = self.steps[self._by_state[str(await state.get_state())]]
        if not step.typed:
            await message.answer(t("form.press_button"))
            return
        rest.update(state=state, t=t, clock=clock)
        await self._answer(message.text or "", message, state, t, clock, rest)

    async def pressed(
        self,
        callback: CallbackQuery,
        callback_data: AnswerCb,
        state: FSMContext,
        t: Translator,
        clock: Clock,
        **rest: Any,
    ) -> None:
        step = self.steps[self._by_state[str(await state.get_state())]]
        if callback_data.value not in {value for value, _ in step.answers(t)}:
            await callback.answer(t("error.stale_button"), show_alert=True)
            return
        await callback.answer()
        await set_buttons(callback, None)
        if isinstance(callback.message, Message):
            rest.update(state=state, t=t, clock=clock)
            await self._answer(callback_data.value, callback.message, state, t, clock, rest)

    def register(self, router: Router) -> None:
        states = [step.state for step in self.steps]
        for state in states:
            # StateFilter, not the bare State: aiogram checks a State in a worker thread.
            router.message.register(self.typed, StateFilter(state), TEXT)
            router.callback_query.register(self.pressed, StateFilter(state), AnswerCb.filter())


async def abort(callback: CallbackQuery, t: Translator, state: FSMContext) -> None:
    await state.clear()
    await callback.answer(t("form.cancelled"))
    await set_buttons(callback, None)


def build_router() -> Router:
    """ "Never mind" under any form or picker, for anyone registered."""
    router = Router(name=__name__)
    router.callback_query.register(abort, Registered(), FlowCb.filter(F.action == FlowAction.ABORT))
    return router


TicketFormHandler = Callable[
    [CallbackQuery, TicketCb, Staff, Translator, FSMContext, TicketService], Awaitable[None]
]


def ticket_form(action: Action, form: Form) -> TicketFormHandler:
    """A job button that opens `form`, once the presser may do `action` to the ticket now."""

    async def start(
        callback: CallbackQuery,
        callback_data: TicketCb,
        staff: Staff,
        t: Translator,
        state: FSMContext,
        tickets: TicketService,
    ) -> None:
        ticket = await tickets.check(staff, callback_data.ticket_id, action)
        await form.start_from(callback, state, t, ticket_id=ticket.id)

    return start
