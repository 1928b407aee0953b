"""The authorization matrix: every command and every button, sent by every kind of user.

`TABLE` says who may do what. Each case builds the state the action needs through the services
(fast, exact), then sends the command or presses the button through the real bot over the fake
Bot API. An allowed action must do its thing; a refused one must get the polite refusal and
leave the database and every conversation state exactly as they were.
"""

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import keyboards
from bot.app import COMMANDS, App
from bot.db import create_sessionmaker
from bot.domain.enums import AssetStatus, TicketStatus, Urgency
from bot.domain.repairs import Cause, RepairDetails, VendorResult
from bot.domain.ticket_flow import Action, Tool
from bot.handlers.assets import AssetForm
from bot.handlers.handover import TransferForm
from bot.handlers.repair_report import RepairForm
from bot.handlers.scanning import ReportFor
from bot.handlers.vendor import ReceiveForm, SendOutForm
from bot.i18n import Translator
from bot.intake.hearing import VoiceDraft
from bot.keyboards import (
    AnswerCb,
    AssetCb,
    AssetStatusCb,
    AttachCb,
    BindCb,
    DeptAction,
    DeptCb,
    DutyCb,
    FlowAction,
    FlowCb,
    KbCb,
    KbOp,
    LanguageCb,
    LendCb,
    PickCb,
    PickPurpose,
    ReceiveCb,
    ReminderAction,
    ReminderCb,
    ReturnCb,
    SelfHelpCb,
    TicketCb,
    ToolCb,
    UrgencyCb,
    VoiceAction,
    VoiceCb,
)
from bot.models import (
    Asset,
    AssetEvent,
    AttachmentKind,
    Department,
    KbArticle,
    OutboxMessage,
    SpareLoan,
    Staff,
    Ticket,
    TicketEvent,
)
from bot.models.ticket import ticket_helpers
from bot.services.importer import Importer, ImportKind
from bot.services.jobs import JobService
from bot.services.knowledge import KnowledgeService
from bot.services.spares import SpareService
from bot.services.tickets import TicketService
from bot.sla.policy import Stage
from tests.conftest import FakeClock, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import BOT_USER, ApiCall, FakeTelegram
from tests.test_properties import settle

# --- who may do what -----------------------------------------------------------------------

ROLES = (
    "stranger",
    "reporter",
    "other reporter",
    "assignee",
    "helper",
    "other engineer",
    "supervisor",
    "admin",
)
"""`reporter` filed the ticket; `assignee` has it and `helper` was invited onto it."""
Y, N = True, False

# fmt: off
#                               strgr  rep  o.rep  asgn  help  o.eng  sup  admin
ROWS: dict[str, tuple[bool, ...]] = {
    "/start":                    (Y,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "/help":                     (N,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "/department":               (N,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "/my":                       (N,     Y,   Y,     N,    N,    N,     N,   N),
    "/queue":                    (N,     N,   N,     Y,    Y,    Y,     N,   N),
    "/duty":                     (N,     N,   N,     Y,    Y,    Y,     N,   N),
    "/spares":                   (N,     N,   N,     Y,    Y,    Y,     Y,   Y),
    "/asset":                    (N,     N,   N,     Y,    Y,    Y,     Y,   Y),
    "/kb":                       (N,     N,   N,     Y,    Y,    Y,     Y,   Y),
    "/overdue":                  (N,     N,   N,     N,    N,    N,     Y,   Y),
    "/engineers":                (N,     N,   N,     N,    N,    N,     Y,   Y),
    "/summary":                  (N,     N,   N,     N,    N,    N,     Y,   Y),
    "/dashboard":                (N,     N,   N,     N,    N,    N,     Y,   Y),
    "/whatif":                   (N,     N,   N,     N,    N,    N,     Y,   Y),
    "/grant":                    (N,     N,   N,     N,    N,    N,     N,   Y),
    "/revoke":                   (N,     N,   N,     N,    N,    N,     N,   Y),
    "/audit":                    (N,     N,   N,     N,    N,    N,     N,   Y),
    "/invite":                   (N,     N,   N,     N,    N,    N,     N,   Y),
    "accept":                    (N,     N,   N,     Y,    N,    N,     N,   N),
    "arrive (on site)":          (N,     N,   N,     Y,    Y,    N,     N,   N),
    "resolve":                   (N,     N,   N,     Y,    Y,    N,     N,   N),
    "transfer":                  (N,     N,   N,     Y,    N,    N,     N,   N),
    "send out":                  (N,     N,   N,     Y,    Y,    N,     N,   N),
    "receive (back in house)":   (N,     N,   N,     Y,    Y,    N,     N,   N),
    "confirm":                   (N,     Y,   N,     N,    N,    N,     N,   N),
    "reopen":                    (N,     Y,   N,     N,    N,    N,     N,   N),
    "cancel":                    (N,     Y,   N,     N,    N,    N,     N,   N),
    "assign (system only)":      (N,     N,   N,     N,    N,    N,     N,   N),
    "auto close (system only)":  (N,     N,   N,     N,    N,    N,     N,   N),
    "urgency":                   (N,     Y,   N,     N,    N,    N,     N,   N),
    "invite a helper":           (N,     N,   N,     Y,    N,    N,     N,   N),
    "offer spares":              (N,     N,   N,     Y,    Y,    N,     Y,   Y),
    "pick transfer target":      (N,     N,   N,     Y,    N,    N,     N,   N),
    "pick helper":               (N,     N,   N,     Y,    N,    N,     N,   N),
    "lend a spare":              (N,     N,   N,     Y,    Y,    N,     Y,   Y),
    "spare back":                (N,     N,   N,     Y,    Y,    Y,     Y,   Y),
    "vendor result":             (N,     N,   N,     Y,    Y,    N,     N,   N),
    "bind device":               (N,     N,   N,     Y,    N,    N,     N,   N),
    "photos & audio":            (N,     N,   N,     Y,    Y,    N,     N,   N),
    "reminder answer":           (N,     N,   N,     Y,    N,    N,     N,   N),
    "reminder answer, loan":     (N,     N,   N,     Y,    Y,    N,     N,   N),
    "add to knowledge base":     (N,     N,   N,     Y,    Y,    N,     Y,   Y),
    "asset status":              (N,     N,   N,     Y,    Y,    Y,     Y,   Y),
    "switch duty":               (N,     N,   N,     N,    N,    N,     Y,   Y),
    "self-help fixed it":        (N,     Y,   Y,     N,    N,    N,     N,   N),
    "report another fault":      (N,     Y,   Y,     N,    N,    N,     N,   N),
    "pick department":           (N,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "department page":           (N,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "/language":                 (Y,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "pick language":             (Y,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "voice draft":               (N,     Y,   Y,     N,    N,    N,     N,   N),
    "never mind":                (N,     Y,   Y,     Y,    Y,    Y,     Y,   Y),
    "form answer, no form":      (N,     N,   N,     N,    N,    N,     N,   N),
}
# fmt: on
TABLE: dict[tuple[str, str], bool] = {
    (action, role): allowed
    for action, row in ROWS.items()
    for role, allowed in zip(ROLES, row, strict=True)
}
"""(action, role) -> allowed."""

USERS = {
    "reporter": 5001,
    "other reporter": 5002,
    "assignee": 9001,
    "helper": 9002,
    "other engineer": 9003,
    "supervisor": 9100,
    "admin": 9200,
}
MORE_STAFF = """telegram_id,name,role,department,zones,language
5002,김간호,reporter,외과 병동,,ko
9003,Park Eng,engineer,,C,ko
9200,최관리,admin,,,ko
"""
SPARES = "code,type,model,department,location,purchased_on,status\n" + "".join(
    f"SP-{n:04d},pc,HP ProDesk 400,원무과,전산실,2020-01-10,spare\n" for n in range(1, 40)
)
HOME = {5001: "내과 병동", 5002: "외과 병동"}
REFUSALS = {
    Translator(lang)(f"error.{key}")
    for lang in ("ko", "en")
    for key in ("not_allowed", "not_registered", "unknown_command", "stale_button")
}
DETAILS = RepairDetails(Cause.HARDWARE, "부품 교체", "", Decimal(0), 30)

# --- the desk and what a case sees ----------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Everything an action could change."""

    tickets: tuple[tuple[Any, ...], ...]
    helpers: tuple[tuple[Any, ...], ...]
    counts: tuple[tuple[int, ...], ...]
    """Ticket events, asset events, articles, outbox rows."""
    assets: tuple[tuple[Any, ...], ...]
    loans: tuple[tuple[Any, ...], ...]
    staff: tuple[tuple[Any, ...], ...]
    states: tuple[tuple[str | None, tuple[tuple[str, Any], ...]], ...]

    def database(self) -> tuple[Any, ...]:
        return self.tickets, self.helpers, self.counts, self.assets, self.loans, self.staff


@dataclass
class Seen:
    """What the bot answered to one update, in the sender's chat."""

    user: int
    calls: list[ApiCall]
    update: dict[str, Any]

    def texts(self) -> list[str]:
        texts = [str(c.params.get("text") or c.params.get("caption") or "") for c in self.calls]
        return [t for t in texts if t]

    @property
    def refused(self) -> bool:
        return bool(REFUSALS & set(self.texts()))

    def buttons(self, prefix: str) -> list[str]:
        markups = [c.params.get("reply_markup") or {} for c in self.calls]
        data = [
            button.get("callback_data") or ""
            for markup in markups
            if isinstance(markup, dict)
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]
        return [d for d in data if d.startswith(f"{prefix}:")]

    def sent(self, method: str) -> bool:
        return any(c.method.lower() == method.lower() for c in self.calls)


@dataclass
class Desk:
    app: App
    tg: FakeTelegram
    ids: dict[int, int] = field(default_factory=dict)
    """Telegram id -> staff id."""
    strangers: Iterator[int] = field(default_factory=lambda: itertools.count(7100))
    """A new stranger for every case: a stranger's /start registers them."""

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        return self.app.sessionmaker

    def key(self, user: int) -> StorageKey:
        return StorageKey(bot_id=BOT_USER["id"], chat_id=user, user_id=user)

    async def state(self, user: int) -> str | None:
        return await self.app.dispatcher.storage.get_state(self.key(user))

    async def set_state(self, user: int, state: State | None, **data: Any) -> None:
        await self.app.dispatcher.storage.set_state(self.key(user), state)
        await self.app.dispatcher.storage.set_data(self.key(user), data)

    async def world(self, users: list[int]) -> World:
        def rows(*columns: Any) -> Any:
            return select(*columns).order_by(*columns)

        def count(model: type) -> Any:
            return select(func.count()).select_from(model).scalar_subquery()

        async with self.sessionmaker() as session:
            tickets = await session.execute(
                rows(Ticket.id, Ticket.status, Ticket.assignee_id, Ticket.urgency, Ticket.asset_id)
            )
            helpers = await session.execute(rows(*ticket_helpers.c))
            counts = await session.execute(
                select(*(count(m) for m in (TicketEvent, AssetEvent, KbArticle, OutboxMessage)))
            )
            assets = await session.execute(rows(Asset.id, Asset.status))
            loans = await session.execute(rows(SpareLoan.id, SpareLoan.returned_at))
            staff = await session.execute(
                rows(Staff.telegram_id, Staff.role, Staff.on_duty, Staff.department_id)
            )
            database = [
                tuple(map(tuple, result))
                for result in (tickets, helpers, counts, assets, loans, staff)
            ]
        storage = self.app.dispatcher.storage
        states = []
        for user in users:
            data = await storage.get_data(self.key(user))
            states.append((await storage.get_state(self.key(user)), tuple(sorted(data.items()))))
        return World(*database, tuple(states))

    async def reset(self) -> None:
        """Engineers on duty, reporters at home, nobody in a form: as every case expects."""
        async with self.sessionmaker() as session:
            departments = {d.name: d.id for d in await session.scalars(select(Department))}
            for person in await session.scalars(select(Staff)):
                person.on_duty = person.telegram_id in {9001, 9002, 9003}
                home = HOME.get(person.telegram_id)
                person.department_id = departments[home] if home else None
            await session.commit()
        for user in USERS.values():
            await self.set_state(user, None)

    # -- state the actions need ----------------------------------------------------------

    async def ticket(self, status: TicketStatus, *, photo: bool = False) -> int:
        """A ticket of the reporter's, assigned to the assignee with the helper on it."""
        clock = self.app.clock
        async with self.sessionmaker() as session:
            tickets = TicketService(session, clock)
            jobs = JobService(tickets)
            nurse, kim, lee = [await session.get(Staff, self.ids[u]) for u in (5001, 9001, 9002)]
            assert nurse and kim and lee
            attachments = [(AttachmentKind.PHOTO, "photo-on-file")] if photo else []
            outcome = await tickets.report(nurse, "모니터가 켜지지 않음", attachments=attachments)
            number = outcome.ticket.id if outcome.ticket else 0
            await tickets.act(kim, number, Action.ACCEPT)
            await jobs.invite(kim, number, lee.id)
            if status is TicketStatus.ON_SITE:
                await tickets.act(kim, number, Action.ARRIVE)
            if status is TicketStatus.SENT_OUT:
                await jobs.send_out(kim, number, "수리업체", None)
            if status in {TicketStatus.RESOLVED, TicketStatus.ASSIGNED}:
                await jobs.resolve(kim, number, DETAILS)
            if status is TicketStatus.ASSIGNED:  # reopened: back to the assignee, helper kept
                await tickets.act(nurse, number, Action.REOPEN)
            ticket = await tickets.get(number)
            assert (ticket.status, ticket.assignee_id) == (status, kim.id), ticket.status
            assert ticket.helper_ids == {lee.id}
            await session.commit()
        return number

    async def asset(self, code: str) -> int:
        async with self.sessionmaker() as session:
            found = await session.scalar(select(Asset.id).where(Asset.code == code))
            assert found is not None
            return found

    async def free_spare(self) -> int:
        async with self.sessionmaker() as session:
            found = await session.scalar(
                select(Asset.id).where(Asset.status == AssetStatus.SPARE).order_by(Asset.id)
            )
            assert found is not None, "the test ran out of spares"
            return found

    async def loan(self, lender: int = 9001) -> tuple[int, int]:
        """A spare lent for a new ticket: (ticket, loan)."""
        number = await self.ticket(TicketStatus.ACCEPTED)
        spare = await self.free_spare()
        async with self.sessionmaker() as session:
            staff = await session.get(Staff, self.ids[lender])
            assert staff is not None
            await SpareService(TicketService(session, self.app.clock)).lend(staff, number, spare)
            await session.commit()
            loan = await session.scalar(select(SpareLoan.id).where(SpareLoan.ticket_id == number))
            assert loan is not None
            return number, loan

    async def self_help_article(self) -> int:
        async with self.sessionmaker() as session:
            article = await KnowledgeService(session, self.app.clock).add(
                title="화면이 안 나옴",
                symptom="모니터가 켜지지 않음",
                action="전원 버튼을 5초간 누르세요",
                model="Dell OptiPlex 7090",
                asset_type="pc",
                self_service=True,
            )
            await session.commit()
            return article.id

    async def department(self, name: str) -> int:
        async with self.sessionmaker() as session:
            found = await session.scalar(select(Department.id).where(Department.name == name))
            assert found is not None
            return found

    # -- sending -------------------------------------------------------------------------

    async def send(self, user: int, text: str) -> Seen:
        return await self._observe(user, self.tg.user(user, f"U{user}").send_text(text))

    async def press(self, user: int, data: str) -> Seen:
        """Press `data` on a fresh bot message in the user's chat (as a modified client can)."""
        message = {
            "message_id": next(self.tg._message_ids),
            "date": int(time.time()),
            "chat": self.tg._chat(user),
            "from": BOT_USER,
            "text": "…",
            "reply_markup": {"inline_keyboard": [[{"text": "?", "callback_data": data}]]},
        }
        self.tg._messages[(user, message["message_id"])] = message
        return await self._observe(user, self.tg.user(user, f"U{user}")._callback(message, data))

    async def _observe(self, user: int, sending: Awaitable[dict[str, Any]]) -> Seen:
        first = len(self.tg.calls)
        update = await sending
        await settle(self.app, update["update_id"])
        query = (update.get("callback_query") or {}).get("id")
        mine = [
            c
            for c in self.tg.calls[first:]
            if str(c.params.get("chat_id")) == str(user)
            or (query is not None and c.params.get("callback_query_id") == query)
        ]
        return Seen(user, mine, update)


# --- the cases -------------------------------------------------------------------------------

Context = dict[str, int]
Setup = Callable[[Desk], Awaitable[Context]]
Done = Callable[[Desk, Context, World, World, Seen], Awaitable[bool]]
Prepare = Callable[[Desk, int], Awaitable[None]]


async def nothing(desk: Desk) -> Context:
    return {}


def ticket_in(status: TicketStatus, **extra: bool) -> Setup:
    async def setup(desk: Desk) -> Context:
        return {"ticket": await desk.ticket(status, **extra)}

    return setup


async def answered(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return bool(seen.texts()) and after.database() == before.database()


def status_is(status: TicketStatus) -> Done:
    async def done(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
        async with desk.sessionmaker() as session:
            ticket = await session.get(Ticket, ctx["ticket"])
            return ticket is not None and ticket.status is status

    return done


def form_at(state: State) -> Done:
    async def done(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
        return await desk.state(seen.user) == state.state

    return done


def offers(prefix: str) -> Done:
    async def done(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
        return bool(seen.buttons(prefix))

    return done


def grew(index: int) -> Done:
    """One of World.counts went up: ticket events, asset events, articles, outbox."""

    async def done(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
        return after.counts[0][index] > before.counts[0][index]

    return done


async def one_more_ticket(
    desk: Desk, ctx: Context, before: World, after: World, seen: Seen
) -> bool:
    return len(after.tickets) == len(before.tickets) + 1


Pack = Callable[[Context], CallbackData]


@dataclass(frozen=True)
class Case:
    what: str | Pack
    """A command to send, or the button (packed for the case's context) to press."""
    done: Done = answered
    """Whether an allowed sender got what the action does."""
    setup: Setup = nothing
    prepare: Prepare | None = None
    """Puts the sender in the conversation state the button belongs to."""

    async def send(self, desk: Desk, user: int, ctx: Context) -> Seen:
        if isinstance(self.what, str):
            return await desk.send(user, self.what)
        return await desk.press(user, self.what(ctx).pack())


async def duty_flipped(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    flipped = {row[0] for row in set(before.staff) ^ set(after.staff)}
    return flipped == {seen.user}


async def registered(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return bool(seen.texts()) and seen.user in {row[0] for row in after.staff}


async def helper_joined(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    async with desk.sessionmaker() as session:
        ticket = await session.get(Ticket, ctx["ticket"])
        return ticket is not None and desk.ids[9003] in ticket.helper_ids


async def lent(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    async with desk.sessionmaker() as session:
        loan = await session.scalar(select(SpareLoan).where(SpareLoan.ticket_id == ctx["ticket"]))
        return loan is not None and loan.spare_id == ctx["spare"]


async def returned(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    async with desk.sessionmaker() as session:
        loan = await session.get(SpareLoan, ctx["loan"])
        return loan is not None and loan.returned_at is not None


async def bound(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    async with desk.sessionmaker() as session:
        ticket = await session.get(Ticket, ctx["ticket"])
        return ticket is not None and ticket.asset_id == ctx["asset"]


async def urgent(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    async with desk.sessionmaker() as session:
        ticket = await session.get(Ticket, ctx["ticket"])
        return ticket is not None and ticket.urgency is Urgency.CRITICAL


async def photos_sent(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return seen.sent("sendPhoto")


async def kim_off_duty(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return dict((row[0], row[2]) for row in after.staff)[9001] is False


async def moved_home(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return dict((row[0], row[3]) for row in after.staff)[seen.user] == ctx["department"]


async def paged(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return seen.sent("editMessageText") and bool(seen.buttons("d1"))


async def speaks_korean(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    """Korean (what everyone here speaks already, so later cases read the same) is stored,
    for a stranger too, and said in Korean."""
    async with desk.sessionmaker() as session:
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == seen.user))
    changed = Translator("ko")("language.changed")
    return staff is not None and staff.language == "ko" and changed in seen.texts()


async def form_left(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return await desk.state(seen.user) is None and not seen.refused


async def in_voice_draft(desk: Desk, user: int) -> None:
    await desk.set_state(
        user, VoiceDraft.confirming, voice="voice-on-file", text="프린터 고장", department=None
    )


async def in_asset_form(desk: Desk, user: int) -> None:
    await desk.set_state(user, AssetForm.reason, asset_id=1, status="spare", status_label="-")


async def never(desk: Desk, ctx: Context, before: World, after: World, seen: Seen) -> bool:
    return False


def ticket_button(action: Action) -> Pack:
    return lambda c: TicketCb(action=action, ticket_id=c["ticket"])


async def with_spare(desk: Desk) -> Context:
    return {"ticket": await desk.ticket(TicketStatus.ACCEPTED), "spare": await desk.free_spare()}


async def with_loan(desk: Desk) -> Context:
    return {"loan": (await desk.loan())[1]}


async def lent_by_helper(desk: Desk) -> Context:
    return {"ticket": (await desk.loan(lender=9002))[0]}


async def with_device(desk: Desk) -> Context:
    return {
        "ticket": await desk.ticket(TicketStatus.ACCEPTED),
        "asset": await desk.asset("PC-0001"),
    }


async def with_article(desk: Desk) -> Context:
    return {"article": await desk.self_help_article(), "asset": await desk.asset("PC-0001")}


async def a_device(desk: Desk) -> Context:
    return {"asset": await desk.asset("PR-0001")}


async def an_engineer(desk: Desk) -> Context:
    return {"engineer": desk.ids[9001]}


async def a_department(desk: Desk) -> Context:
    return {"department": await desk.department("원무과")}


ACCEPTED = ticket_in(TicketStatus.ACCEPTED)
CASES: dict[str, Case] = {
    "/start": Case("/start", registered),
    "/help": Case("/help"),
    "/department": Case("/department", offers("d1")),
    "/my": Case("/my"),
    "/queue": Case("/queue"),
    "/duty": Case("/duty", duty_flipped),
    "/spares": Case("/spares"),
    "/asset": Case("/asset PC-0001"),
    "/kb": Case("/kb 모니터"),
    "/overdue": Case("/overdue"),
    "/engineers": Case("/engineers", offers("y1")),
    "/summary": Case("/summary"),
    "/dashboard": Case("/dashboard"),
    "/whatif": Case("/whatif"),
    "/grant": Case("/grant"),
    "/revoke": Case("/revoke"),
    "/audit": Case("/audit"),
    "/invite": Case("/invite"),
    "accept": Case(
        ticket_button(Action.ACCEPT),
        status_is(TicketStatus.ACCEPTED),
        ticket_in(TicketStatus.ASSIGNED),
    ),
    "arrive (on site)": Case(
        ticket_button(Action.ARRIVE), status_is(TicketStatus.ON_SITE), ACCEPTED
    ),
    "resolve": Case(ticket_button(Action.RESOLVE), form_at(RepairForm.cause), ACCEPTED),
    "transfer": Case(ticket_button(Action.TRANSFER), offers("p1"), ACCEPTED),
    "send out": Case(ticket_button(Action.SEND_OUT), form_at(SendOutForm.vendor), ACCEPTED),
    "receive (back in house)": Case(
        ticket_button(Action.RECEIVE), offers("b1"), ticket_in(TicketStatus.SENT_OUT)
    ),
    "confirm": Case(
        ticket_button(Action.CONFIRM),
        status_is(TicketStatus.CLOSED),
        ticket_in(TicketStatus.RESOLVED),
    ),
    "reopen": Case(
        ticket_button(Action.REOPEN),
        status_is(TicketStatus.ASSIGNED),
        ticket_in(TicketStatus.RESOLVED),
    ),
    "cancel": Case(ticket_button(Action.CANCEL), status_is(TicketStatus.CANCELLED), ACCEPTED),
    "assign (system only)": Case(ticket_button(Action.ASSIGN), never, ACCEPTED),
    "auto close (system only)": Case(
        ticket_button(Action.AUTO_CLOSE), never, ticket_in(TicketStatus.RESOLVED)
    ),
    "urgency": Case(
        lambda c: UrgencyCb(ticket_id=c["ticket"], urgency=Urgency.CRITICAL),
        urgent,
        ACCEPTED,
    ),
    "invite a helper": Case(
        lambda c: ToolCb(tool=Tool.HELPER, ticket_id=c["ticket"]), offers("p1"), ACCEPTED
    ),
    "offer spares": Case(
        lambda c: ToolCb(tool=Tool.LEND, ticket_id=c["ticket"]), offers("l1"), ACCEPTED
    ),
    "pick transfer target": Case(
        lambda c: PickCb(
            purpose=PickPurpose.TRANSFER, ticket_id=c["ticket"], staff_id=c["colleague"]
        ),
        form_at(TransferForm.reason),
        ACCEPTED,
    ),
    "pick helper": Case(
        lambda c: PickCb(
            purpose=PickPurpose.HELPER, ticket_id=c["ticket"], staff_id=c["colleague"]
        ),
        helper_joined,
        ACCEPTED,
    ),
    "lend a spare": Case(
        lambda c: LendCb(ticket_id=c["ticket"], spare_id=c["spare"]), lent, with_spare
    ),
    "spare back": Case(lambda c: ReturnCb(loan_id=c["loan"]), returned, with_loan),
    "vendor result": Case(
        lambda c: ReceiveCb(ticket_id=c["ticket"], result=VendorResult.REPAIRED),
        form_at(ReceiveForm.cost),
        ticket_in(TicketStatus.SENT_OUT),
    ),
    "bind device": Case(
        lambda c: BindCb(ticket_id=c["ticket"], asset_id=c["asset"]), bound, with_device
    ),
    "photos & audio": Case(
        lambda c: AttachCb(ticket_id=c["ticket"]),
        photos_sent,
        ticket_in(TicketStatus.ACCEPTED, photo=True),
    ),
    "reminder answer": Case(
        lambda c: ReminderCb(
            action=ReminderAction.ON_IT, stage=Stage.REPAIR, ticket_id=c["ticket"]
        ),
        grew(0),
        ACCEPTED,
    ),
    "reminder answer, loan": Case(
        lambda c: ReminderCb(action=ReminderAction.ON_IT, stage=Stage.LOAN, ticket_id=c["ticket"]),
        grew(0),
        lent_by_helper,
    ),
    "add to knowledge base": Case(
        lambda c: KbCb(op=KbOp.ADD, ticket_id=c["ticket"]),
        grew(2),
        ticket_in(TicketStatus.RESOLVED),
    ),
    "asset status": Case(
        lambda c: AssetStatusCb(asset_id=c["asset"], status=AssetStatus.SPARE),
        form_at(AssetForm.reason),
        a_device,
    ),
    "switch duty": Case(
        lambda c: DutyCb(staff_id=c["engineer"], on=False), kim_off_duty, an_engineer
    ),
    "self-help fixed it": Case(
        lambda c: SelfHelpCb(article_id=c["article"], asset_id=c["asset"]),
        one_more_ticket,
        with_article,
    ),
    "report another fault": Case(
        lambda c: AssetCb(asset_id=c["asset"]), form_at(ReportFor.describing), a_device
    ),
    "pick department": Case(
        lambda c: DeptCb(action=DeptAction.PICK, value=c["department"]),
        moved_home,
        a_department,
    ),
    "department page": Case(lambda c: DeptCb(action=DeptAction.PAGE, value=0), paged, nothing),
    "/language": Case("/language", offers("g1")),
    "pick language": Case(lambda c: LanguageCb(language="ko"), speaks_korean, nothing),
    "voice draft": Case(
        lambda c: VoiceCb(action=VoiceAction.CREATE),
        one_more_ticket,
        nothing,
        in_voice_draft,
    ),
    "never mind": Case(
        lambda c: FlowCb(action=FlowAction.ABORT), form_left, nothing, in_asset_form
    ),
    "form answer, no form": Case(lambda c: AnswerCb(value="hardware"), never, nothing),
}


# --- running the matrix ----------------------------------------------------------------------


@pytest.fixture
async def matrix_desk(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> AsyncIterator[Desk]:
    """The sample hospital plus a second reporter, a third engineer (zone C), an admin (from
    the staff importer) and a shelf of spares; every engineer on duty."""
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
        importer = Importer(session, clock, "ko")
        await importer.import_bytes(ImportKind.STAFF, MORE_STAFF.encode())
        await importer.import_bytes(ImportKind.ASSETS, SPARES.encode())
        await session.commit()
        ids = {
            row.telegram_id: row.id
            for row in await session.execute(select(Staff.telegram_id, Staff.id))
        }
    settings = bot_settings(database_url, tg, flood_limit=1_000_000)
    async with polling_bot(settings, tg) as app:
        desk = Desk(app, tg, ids)
        await desk.reset()
        yield desk


async def run_case(desk: Desk, name: str, role: str, ctx: Context) -> tuple[str, bool]:
    """'allowed', 'refused' or what went wrong; and whether the database changed."""
    case = CASES[name]
    user = USERS.get(role) or next(desk.strangers)
    ctx = {**ctx, "colleague": desk.ids[9003]}
    if case.prepare is not None:
        await case.prepare(desk, user)
    watched = [*USERS.values(), user]
    before = await desk.world(watched)
    seen = await case.send(desk, user, ctx)
    after = await desk.world(watched)
    changed = after.database() != before.database()
    if seen.refused:
        return ("refused" if after == before else "refused, yet something changed"), changed
    if await case.done(desk, ctx, before, after, seen):
        return "allowed", changed
    return f"neither refused nor done: {seen.texts()}", changed


async def run_row(desk: Desk, name: str) -> dict[str, str]:
    """Refused roles first, on one setup; then each allowed role, on a fresh setup whenever
    the case before changed the database."""
    case = CASES[name]
    outcomes: dict[str, str] = {}
    ctx: Context | None = None
    for role in sorted(ROLES, key=lambda role: TABLE[name, role]):
        if ctx is None:
            ctx = await case.setup(desk)
        outcomes[role], changed = await run_case(desk, name, role, ctx)
        if changed:
            ctx = None
        if changed or outcomes[role] != "refused":
            await desk.reset()
    return outcomes


def expected(allowed: bool) -> str:
    return "allowed" if allowed else "refused"


def test_the_table_covers_every_command_and_button() -> None:
    commands = {f"/{c}" for c in (*COMMANDS, "kb", "asset", "spares", "whatif", "dashboard")}
    assert commands <= set(ROWS), f"add rows for {sorted(commands - set(ROWS))}"
    assert set(ROWS) == set(CASES)
    factories = {
        cls
        for cls in vars(keyboards).values()
        if isinstance(cls, type) and issubclass(cls, CallbackData) and cls is not CallbackData
    }
    used = {type(pack) for pack in _sample_packs()}
    assert factories <= used, f"add rows for {sorted(c.__name__ for c in factories - used)}"
    actions = {pack.action for pack in _sample_packs() if isinstance(pack, TicketCb)}
    assert actions == set(Action)


def _sample_packs() -> list[CallbackData]:
    """Every button a case presses, packed for a context with every id set to 1."""
    ctx: Context = dict.fromkeys(
        ("ticket", "spare", "loan", "asset", "article", "engineer", "department", "colleague"), 1
    )
    return [case.what(ctx) for case in CASES.values() if not isinstance(case.what, str)]


async def test_authorization_matrix(matrix_desk: Desk) -> None:
    mismatches = []
    for name in ROWS:
        outcomes = await run_row(matrix_desk, name)
        for role in ROLES:
            want = expected(TABLE[name, role])
            if outcomes[role] != want:
                mismatches.append(f"{name!r} by {role}: expected {want}, got {outcomes[role]}")
    assert not mismatches, "\n".join(mismatches)
