"""Property-based tests: random updates thrown at the running bot, random CSV files at the
importers.

Each test owns its event loop (Hypothesis drives plain functions), so the bot can run for real,
long polling the fake Bot API: a fresh desk for every example, and a failure replays from a
clean state. The bugs these tests found are kept as explicit examples.
"""

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from functools import cache
from typing import Any, get_args

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters.callback_data import CallbackData
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import keyboards
from bot.app import COMMANDS, App
from bot.db import create_engine, create_sessionmaker
from bot.domain.enums import AssetStatus, Role
from bot.i18n import Translator
from bot.models import (
    Asset,
    AssetEvent,
    Department,
    OutboxMessage,
    OutboxStatus,
    SpareLoan,
    Staff,
    Ticket,
    TicketEvent,
    VoiceNote,
    Zone,
)
from bot.services.importer import COLUMNS, Importer, ImportFailed, ImportKind
from tests.conftest import FakeClock, _wipe, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import BOT_USER, FakeTelegram, _buttons
from tests.test_e2e_intake import label_photo

# --- who talks to the bot ------------------------------------------------------------------

STRANGERS = (7001, 7002)
NURSE, KIM, LEE, BOSS = 5001, 9001, 9002, 9100
USERS = (*STRANGERS, NURSE, KIM, LEE, BOSS)
OUTBOX_TOKEN = "1000:OUTBOX-token"
"""The outbox sender talks to the fake with its own token, so its messages are told apart from
the immediate answers to an update."""

SPARES_CSV = """code,type,model,department,location,purchased_on,status
SP-0001,pc,HP ProDesk 400,원무과,전산실 선반 1,2020-01-10,spare
SP-0002,printer,HP LaserJet M404,원무과,전산실 선반 2,2020-01-10,spare
"""
INTERNAL_ERRORS = {Translator(lang)("error.internal") for lang in ("ko", "en")}
REPLY_METHODS = {
    "sendmessage",
    "sendphoto",
    "sendvoice",
    "senddocument",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "deletemessage",
}
MAX_TEXT_REPLIES = 3
"""The most plain answers one update may get (a new user's deep link: welcome, unknown device,
pick a department)."""

# --- random updates ----------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One thing a user does; `kind` names the FakeUser call, `args` its arguments."""

    user: int
    kind: str
    args: tuple[Any, ...] = ()


WHITESPACE = " \t\n\r\u00a0\u2003\u200b\u3000\ufeff"
SPECIAL_CHARS = (
    "\x00\x01\x07\x1b\x7f\u0085\u200e\u200f\u202e\u2066"  # control and bidi marks
    "😀🔥👍🏽‍🧑‍🔧🇰🇷"  # emoji, with modifiers and joiners
    "שלום مرحبا"  # right to left
    "프린터 고장 응급실 모니터"
    "<>&\"'{}%s:;/@#"
)
ID_TEXTS = ("0", "1", "2", "3", "4", "5", "-1", "2147483648", "9223372036854775808", "1e3", "")
ids = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 9001, -1, 2**31, 2**63, 10**30])

short_text = st.text(max_size=40)
special_text = st.text(alphabet=st.sampled_from(SPECIAL_CHARS), min_size=1, max_size=60)
long_text = st.builds(
    lambda char, size: char * size,
    st.sampled_from(["가", "a", "😀", "\u202e", " ", "{"]),
    st.integers(min_value=1990, max_value=4096),
)
whitespace_only = st.text(alphabet=st.sampled_from(WHITESPACE), min_size=1, max_size=20)
command_names = st.sampled_from(
    [*COMMANDS, "kb", "asset", "spares", "whatif", "dashboard", "reboot", "START", "my@other"]
)
command_args = st.one_of(
    st.just(""),
    short_text,
    special_text,
    long_text,
    st.sampled_from(
        [
            "a-PR-0001",
            "a-PC-0001",
            "a-NOPE",
            "b-AA",
            "b-" + "A" * 80,
            "a-" + "x" * 3000,
            "add A",
            "add Z",
            "move 김엔지 B",
            "move " + "x" * 4000 + " A",
            "9999-12-31",
            "0001-01-01",
            "2026-02-30",
            "PR-0001",
            "SP-0001",
            "프린터",
        ]
    ),
)
commands = st.builds(
    lambda name, suffix, args: f"/{name}{suffix} {args}".rstrip()[:4096],
    command_names,
    st.sampled_from(["", "", "@repairbot_test_bot", "@someone_else_bot"]),
    command_args,
)
texts = st.one_of(short_text, special_text, long_text, whitespace_only, commands, commands).filter(
    bool
)


def _field_values(annotation: Any) -> st.SearchStrategy[str]:
    """Plausible and implausible text for one field of a callback pack."""
    garbage = st.text(max_size=8).map(lambda s: s.replace(":", ""))
    if annotation is int:
        return st.one_of(st.sampled_from(ID_TEXTS), ids.map(str), garbage)
    if annotation is bool:
        return st.sampled_from(["0", "1", "true", "false", "yes", "maybe", ""])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.one_of(st.sampled_from([str(m.value) for m in annotation]), garbage)
    return st.one_of(st.sampled_from(["0", "-", "15", "hardware", "x" * 40]), garbage)


def _packs(factory: type[CallbackData]) -> st.SearchStrategy[str]:
    fields = [
        _field_values(get_args(f.annotation)[0] if get_args(f.annotation) else f.annotation)
        for f in factory.model_fields.values()
    ]
    return st.tuples(*fields).map(lambda values: ":".join((factory.__prefix__, *values)))


FACTORIES = sorted(
    (
        v
        for v in vars(keyboards).values()
        if isinstance(v, type) and issubclass(v, CallbackData) and v is not CallbackData
    ),
    key=lambda cls: cls.__prefix__,
)
callback_data = st.one_of(
    st.text(min_size=1, max_size=64),
    st.builds(
        lambda prefix, rest: f"{prefix}:{rest}",
        st.sampled_from(sorted(keyboards.KNOWN_PREFIXES)),
        st.text(max_size=30),
    ),
    *(_packs(factory) for factory in FACTORIES),
).filter(lambda data: 0 < len(data.encode()) <= 64)

garbage_bytes = st.one_of(st.binary(max_size=600), st.sampled_from([b"", b"\xff\xd8\xff", b"OggS"]))
caption = st.one_of(st.none(), short_text, special_text, whitespace_only)


@cache
def _labels() -> tuple[bytes, ...]:
    return (label_photo("PR-0001"), label_photo("SP-0001"), label_photo("NO-SUCH-CODE"))


def acts_of(user: int) -> st.SearchStrategy[Act]:
    def act(kind: str, *args: st.SearchStrategy[Any]) -> st.SearchStrategy[Act]:
        return st.tuples(*args).map(lambda values: Act(user, kind, values))

    return st.one_of(
        act("send_text", texts),
        act("send_text", texts),
        act("press", st.integers(min_value=0, max_value=50)),
        act("press", st.integers(min_value=0, max_value=50)),
        act("press", st.integers(min_value=0, max_value=50)),
        act("press_data", callback_data),
        act("press_data", callback_data),
        act("send_sticker", st.sampled_from(["👍", "", "\x00", "🇰🇷"])),
        act(
            "send_document",
            st.text(max_size=20),
            st.sampled_from(["application/pdf", "image/jpeg", "image/png", "text/csv", "x/y"]),
            garbage_bytes,
        ),
        act("send_photo", garbage_bytes, caption),
        act(
            "send_photo", st.integers(min_value=0, max_value=2).map(lambda i: _labels()[i]), caption
        ),
        act("send_voice", st.integers(min_value=0, max_value=500), garbage_bytes),
    )


actions = st.sampled_from(USERS).flatmap(acts_of)


# --- running the desk ----------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Every record at ERROR or above, whoever logs it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@contextlib.asynccontextmanager
async def fuzz_desk(database_url: str) -> AsyncIterator[tuple[App, FakeTelegram]]:
    """A fresh hospital (with two spares) and the bot serving it; the outbox has its own token."""
    engine = create_engine(database_url)
    try:
        await _wipe(engine)
        async with create_sessionmaker(engine)() as session:
            await seed_hospital(session, FakeClock())
            await Importer(session, FakeClock(), "ko").import_bytes(
                ImportKind.ASSETS, SPARES_CSV.encode()
            )
            await session.commit()
    finally:
        await engine.dispose()
    async with FakeTelegram() as tg:
        settings = bot_settings(
            database_url,
            tg,
            sla_scan_every=timedelta(hours=1),
            auto_close_check_every=timedelta(hours=1),
            flood_limit=1_000_000,  # the fuzz taps faster than any person
        )
        api = TelegramAPIServer.from_base(tg.base_url)
        outbox_bot = Bot(OUTBOX_TOKEN, session=AiohttpSession(api=api))
        try:
            async with polling_bot(settings, tg) as app:
                app.sender.bot = outbox_bot
                yield app, tg
        finally:
            await outbox_bot.session.close()


def _pressable(tg: FakeTelegram, user: int) -> dict[str, Any]:
    """The newest bot message with buttons in the chat (else the newest one): a forged press
    needs a message to hang on, so an empty chat gets one."""
    messages = tg._bot_messages(user)
    messages = [m for m in messages if m.get("reply_markup")] or messages
    if messages:
        return messages[0]
    message = {
        "message_id": next(tg._message_ids),
        "date": int(time.time()),
        "chat": tg._chat(user),
        "from": BOT_USER,
        "text": "…",
        "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "x"}]]},
    }
    tg._messages[(user, message["message_id"])] = message
    return message


async def perform(tg: FakeTelegram, act: Act) -> dict[str, Any] | None:
    """Send the update; None when there was nothing to do (no button to press)."""
    user = tg.user(act.user, f"U{act.user}", "ko")
    if act.kind == "press":
        buttons = [
            (message, data)
            for message in tg._bot_messages(act.user)
            for _, data in _buttons(message.get("reply_markup"))
            if data is not None
        ]
        if not buttons:
            return None
        message, data = buttons[act.args[0] % len(buttons)]
        return await user._callback(message, data)
    if act.kind == "press_data":
        return await user._callback(_pressable(tg, act.user), act.args[0])
    update: dict[str, Any] = await getattr(user, act.kind)(*act.args)
    return update


async def settle(app: App, update_id: int) -> None:
    """Wait until the bot took the update in hand and every update in hand is finished, and
    every voice note it took is heard."""
    in_hand, hearing = app.dispatcher["in_hand"], app.dispatcher["hearing"]
    async with asyncio.timeout(20):
        while in_hand.newest < update_id or in_hand.count or hearing.busy:
            await asyncio.sleep(0.002)


@dataclass(frozen=True)
class Counts:
    tickets: int
    events: int
    outbox: int
    on_duty: int
    voice_notes: int


async def counts(session: AsyncSession) -> Counts:
    def count(model: type) -> Any:
        return select(func.count()).select_from(model).scalar_subquery()

    on_duty = select(func.count()).select_from(Staff).where(Staff.on_duty).scalar_subquery()
    row = (
        await session.execute(
            select(
                count(Ticket), count(TicketEvent), count(OutboxMessage), on_duty, count(VoiceNote)
            )
        )
    ).one()
    return Counts(*row)


async def inconsistencies(session: AsyncSession) -> list[str]:
    """What a half-written change would leave behind."""
    problems: list[str] = []
    events: dict[int, list[TicketEvent]] = {}
    for event in await session.scalars(select(TicketEvent).order_by(TicketEvent.id)):
        events.setdefault(event.ticket_id, []).append(event)
    for ticket in await session.scalars(select(Ticket).order_by(Ticket.id)):
        log = events.get(ticket.id, [])
        births = [e for e in log if e.action in {"report", "self_solved"}]
        if len(births) != 1 or log[0] is not births[0] or log[0].from_status is not None:
            problems.append(f"#{ticket.id}: log does not start with one report: {log}")
        elif log[-1].to_status is not ticket.status:
            problems.append(f"#{ticket.id} is {ticket.status} but its log ends at {log[-1]}")
    moves: dict[int, list[AssetEvent]] = {}
    for move in await session.scalars(select(AssetEvent).order_by(AssetEvent.id)):
        moves.setdefault(move.asset_id, []).append(move)
    open_loans = Counter(
        (
            await session.scalars(select(SpareLoan.spare_id).where(SpareLoan.returned_at.is_(None)))
        ).all()
    )
    for asset in await session.scalars(select(Asset).order_by(Asset.id)):
        history = moves.get(asset.id, [])
        if history and history[-1].to_status is not asset.status:
            problems.append(f"{asset.code} is {asset.status} but its log ends at {history[-1]}")
        for before, after in itertools.pairwise(history):
            if after.from_status is not before.to_status:
                problems.append(f"{asset.code}: log jumps from {before} to {after}")
        lent = open_loans[asset.id]
        if lent > 1 or (lent == 1) != (asset.status is AssetStatus.ON_LOAN):
            problems.append(f"{asset.code} is {asset.status} with {lent} open loans")
    return problems


def _check_answers(act: Act, update: dict[str, Any], calls: list[Any]) -> None:
    """The update got polite, immediate answers in its own chat, and not too many."""
    replies = [c for c in calls if c.token != OUTBOX_TOKEN and c.method.lower() in REPLY_METHODS]
    answers = [c for c in calls if c.method.lower() == "answercallbackquery"]
    for call in calls:  # an edit may fail (a double tap changes nothing): handlers allow it
        rejected = call.failed and not call.method.lower().startswith("edit")
        assert not rejected, f"{act}: the fake refused {call.method} {call.params}"
    for call in replies:
        assert int(call.params["chat_id"]) == act.user, f"{act}: reply to another chat: {call}"
    said = [str(c.params.get("text") or c.params.get("caption") or "") for c in replies + answers]
    assert not INTERNAL_ERRORS & set(said), f"{act}: internal error answered: {said}"
    texts = [c for c in replies if c.method.lower() == "sendmessage"]
    assert len(texts) <= MAX_TEXT_REPLIES, f"{act}: {len(texts)} answers: {said}"
    if "callback_query" in update:
        mine = [
            a for a in answers if a.params["callback_query_id"] == update["callback_query"]["id"]
        ]
        assert len(mine) == 1, f"{act}: callback answered {len(mine)} times"


async def play(app: App, tg: FakeTelegram, script: list[Act]) -> None:
    """Each act in turn, once the last one is fully handled; its answers checked at once."""
    async with app.sessionmaker() as session:
        before = await counts(session)
    for act in script:
        first_call = len(tg.calls)
        update = await perform(tg, act)
        if update is None:
            continue
        await settle(app, update["update_id"])
        _check_answers(act, update, tg.calls[first_call:])
        async with app.sessionmaker() as session:
            after = await counts(session)
        assert after.tickets >= before.tickets and after.events >= before.events, act
        changed = after.events > before.events or after.on_duty != before.on_duty
        heard = act.kind == "send_voice" and after.outbox == before.outbox + 1  # its draft
        assert after.outbox == before.outbox or changed or heard, f"{act}: notices unasked"
        assert after.voice_notes == 0, f"{act}: a voice note left unheard"
        before = after
    async with app.sessionmaker() as session:
        problems = await inconsistencies(session)
    assert not problems, f"after {script}: {problems}"


async def drained(app: App) -> list[OutboxMessage]:
    """Wait for the outbox to settle; the rows that were given up."""
    async with asyncio.timeout(20):
        while True:
            async with app.sessionmaker() as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.PENDING)
                )
                if not pending:
                    failed = await session.scalars(
                        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
                    )
                    return list(failed.all())
            app.sender.wake()
            await asyncio.sleep(0.02)


PRELUDE = (
    Act(KIM, "send_text", ("/duty",)),
    Act(NURSE, "send_text", ("3층 프린터 용지 걸림",)),
)
"""An engineer on duty with a job, so that real job buttons are there to press."""


async def fuzz(database_url: str, script: list[Act]) -> None:
    with error_log() as errors:
        async with fuzz_desk(database_url) as (app, tg):
            await play(app, tg, list(PRELUDE))
            await drained(app)
            await play(app, tg, script)
            failed = await drained(app)
            assert not failed, [(m.chat_id, m.text[:80], m.last_error) for m in failed]
    assert not errors.records, [
        (r.getMessage(), r.exc_info[1] if r.exc_info else None) for r in errors.records
    ]


FOUND_BY_FUZZING = [
    Act(NURSE, "send_text", ("프린터\x00고장",)),  # PostgreSQL cannot store U+0000
    Act(NURSE, "send_text", ("/start b-AA",)),  # a deep link decoding to U+0000
    Act(NURSE, "send_text", ("/start a-" + "x" * 4080,)),  # quoted back past 4096 characters
    Act(KIM, "send_text", ("/asset \x00",)),
    Act(BOSS, "send_text", ("/whatif move " + "x" * 4080 + " A",)),
    Act(BOSS, "send_text", ("/summary 9999-12-31",)),  # the chart's days overflow
    Act(BOSS, "send_text", ("/summary 0001-01-01",)),
    Act(NURSE, "press_data", ("d1:pick:99999999999",)),  # ids beyond PostgreSQL's integer
    Act(BOSS, "press_data", ("y1:99999999999:1",)),
    Act(NURSE, "press_data", ("t1:cancel:2147483648",)),
]
DOUBLE_TAPS = [  # the second press would leave the message unchanged: Telegram refuses the edit
    Act(BOSS, "send_text", ("/engineers",)),
    Act(BOSS, "press_data", ("y1:2:1",)),
    Act(BOSS, "press_data", ("y1:2:1",)),  # and Lee must not be told twice
    Act(NURSE, "send_text", ("/department",)),
    Act(NURSE, "press_data", ("d1:page:0",)),
    Act(NURSE, "press_data", ("d1:pick:1",)),
    Act(NURSE, "press_data", ("d1:pick:1",)),
]


def test_random_updates_never_break_the_desk(database_url: str) -> None:
    """Whatever anyone sends or presses: no crash, no error logged, at most a polite answer,
    and every change whole (tickets with their log, assets with theirs, notices with a change).
    """
    with asyncio.Runner() as runner:

        @settings(
            max_examples=6,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.lists(actions, min_size=5, max_size=25))
        @example(FOUND_BY_FUZZING)
        @example(DOUBLE_TAPS)
        def check(script: list[Act]) -> None:
            runner.run(fuzz(database_url, script))

        check()


# --- random CSV files ----------------------------------------------------------------------

Cells = tuple[str, ...]


@dataclass(frozen=True)
class CsvFile:
    """A CSV file as an Excel user (or a broken export) might hand it over."""

    kind: ImportKind
    header: Cells
    rows: tuple[Cells, ...]
    encoding: str
    newline: str
    garbage: tuple[int, bytes] | None
    """Bytes spliced in at a position: a truncated download, a stray binary."""
    valid: bool
    """Built from valid values only: the import must succeed."""

    def lines(self) -> list[str]:
        def line(cells: Cells) -> str:
            return ",".join(
                f'"{cell.replace(chr(34), chr(34) * 2)}"'
                if any(ch in cell for ch in ',"\r\n') or cell != cell.strip()
                else cell
                for cell in cells
            )

        return [line(self.header), *(line(row) for row in self.rows)]

    def raw(self) -> bytes:
        text = self.newline.join(self.lines()) + self.newline
        try:
            data = text.encode(self.encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        if self.garbage is not None:
            at, junk = self.garbage
            at %= len(data) + 1
            data = data[:at] + junk + data[at:]
        return data


EXISTING = {
    "department": ["응급실", "내과 병동", "외과 병동", "원무과", "중환자실"],
    "zone": ["A", "B", "C"],
}
odd_cell = st.one_of(
    st.text(max_size=12),
    special_text,
    st.sampled_from(["", " ", "x" * 81, "y" * 121, "z" * 201, "\x00", "a\nb", '"', "가\ufeff"]),
)
VALID: dict[str, st.SearchStrategy[str]] = {
    "name": st.one_of(
        st.sampled_from([*EXISTING["department"], "새 병동", "Radiology"]),
        st.text(alphabet="가나다 abcXYZ-", min_size=1, max_size=30).map(str.strip).filter(bool),
    ),
    "zone": st.sampled_from(["A", "B", "C", "D", "별관"]),
    "priority": st.sampled_from(["1", "0", "", "yes", "No", "TRUE"]),
    "telegram_id": st.integers(min_value=1, max_value=2**52).map(str),
    "role": st.sampled_from(["reporter", "supervisor", "admin", "", "Reporter"]),
    "department": st.sampled_from(["", *EXISTING["department"]]),
    "zones": st.just(""),
    "language": st.sampled_from(["ko", "en", "zh", "", "EN"]),
    "code": st.text(alphabet="ABCXYZ0123456789-", min_size=1, max_size=20),
    "type": st.sampled_from(["pc", "printer", "모니터", "Scanner"]),
    "model": st.sampled_from(["Dell OptiPlex 7090", "HP LaserJet M404", "삼성 모니터"]),
    "location": st.sampled_from(["", "간호사실", "3층 복도"]),
    "purchased_on": st.sampled_from(["", "2022-03-01", "2019-12-31"]),
    "status": st.sampled_from([*(s.value for s in AssetStatus), ""]),
}
ODD: dict[str, st.SearchStrategy[str]] = {
    "telegram_id": st.sampled_from(
        ["9001", "5001", "012", "12", "-5", "abc", "١٢٣", "²", "9" * 25, "1e5", "0x10", ""]
    ),
    "role": st.sampled_from(["engineer", "boss", "ENGINEER"]),
    "zones": st.sampled_from(["A", "A;B", "Z", "A;;B", ";", "A; a", "x" * 81]),
    "department": st.sampled_from(["없는 부서", "응급실 ", "ER"]),
    "purchased_on": st.sampled_from(["2024-13-01", "20240331", "31/03/2024", "0001-01-01"]),
    "status": st.sampled_from(["broken", "SPARE", "On_Loan"]),
    "language": st.sampled_from(["fr", "korean"]),
}


@st.composite
def csv_files(draw: st.DrawFn) -> CsvFile:
    kind = draw(st.sampled_from(list(ImportKind)))
    columns = COLUMNS[kind]
    header = tuple(draw(st.permutations(columns)))
    valid = draw(st.booleans())
    if not valid and draw(st.integers(0, 9)) == 0:  # a header that is not quite right
        header = draw(
            st.sampled_from(
                [header[:-1], (*header, "extra"), tuple(c.upper() for c in header), ("",)]
            )
        )

    def cell(column: str) -> st.SearchStrategy[str]:
        if valid and (kind, column) == (ImportKind.ASSETS, "department"):
            return st.sampled_from(EXISTING["department"])  # a device belongs somewhere
        if valid:
            return VALID[column]
        return st.one_of(VALID.get(column, odd_cell), ODD.get(column, odd_cell), odd_cell)

    def row() -> st.SearchStrategy[Cells]:
        return st.tuples(*(cell(c) for c in header)) if header[0] else st.just(("x",))

    rows = draw(st.lists(row(), min_size=0 if not valid else 1, max_size=8))
    if valid:
        keys = [dict(zip(header, r, strict=True))[columns[0]].lower() for r in rows]
        rows = [r for i, r in enumerate(rows) if keys[i] not in keys[:i]]  # keys are unique
    elif rows and draw(st.integers(0, 4)) == 0:  # a repeated row, or a row cut short
        rows.append(draw(st.sampled_from([rows[0], rows[0][:-1], (*rows[0], "x")])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
    garbage = None
    if not valid:
        garbage = draw(
            st.none() | st.tuples(st.integers(0, 500), st.binary(min_size=1, max_size=8))
        )
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return CsvFile(kind, header, tuple(rows), encoding, newline, garbage, valid)


def _departments(*rows: Cells) -> CsvFile:
    header = COLUMNS[ImportKind.DEPARTMENTS]
    return CsvFile(ImportKind.DEPARTMENTS, header, rows, "utf-8", "\n", None, valid=False)


def _staff(*rows: Cells) -> CsvFile:
    return CsvFile(ImportKind.STAFF, COLUMNS[ImportKind.STAFF], rows, "utf-8", "\n", None, False)


async def hospital_snapshot(session: AsyncSession) -> dict[str, set[tuple[Any, ...]]]:
    """Every imported fact, to compare before and after."""
    zones = await session.execute(select(Zone.id, Zone.name))
    departments = await session.execute(
        select(Department.id, Department.name, Department.zone_id, Department.priority)
    )
    staff = await session.scalars(select(Staff))
    assets = await session.execute(
        select(
            Asset.id,
            Asset.code,
            Asset.type,
            Asset.model,
            Asset.department_id,
            Asset.location,
            Asset.purchased_on,
            Asset.status,
        )
    )
    return {
        "zones": set(map(tuple, zones.all())),
        "departments": set(map(tuple, departments.all())),
        "staff": {
            (s.id, s.telegram_id, s.name, s.role, s.department_id, s.language, s.zone_names)
            for s in staff.all()
        },
        "assets": set(map(tuple, assets.all())),
    }


async def imported_as_written(session: AsyncSession, file: CsvFile) -> list[str]:
    """Rows of a successful import that the database does not hold as the file says."""
    wrong = []
    for cells in file.rows:
        row = {column: cell.strip() for column, cell in zip(file.header, cells, strict=True)}
        if file.kind is ImportKind.DEPARTMENTS:
            department = await session.scalar(
                select(Department).where(Department.name == row["name"])
            )
            ok = department is not None and (department.zone.name, department.priority) == (
                row["zone"],
                row["priority"].lower() in {"1", "true", "yes", "y"},
            )
        elif file.kind is ImportKind.STAFF:
            staff = await session.scalar(
                select(Staff).where(Staff.telegram_id == int(row["telegram_id"]))
            )
            ok = staff is not None and (
                staff.name,
                staff.role,
                staff.department.name if staff.department else "",
                staff.zone_names,
                staff.language,
            ) == (
                row["name"],
                Role(row["role"].lower() or "reporter"),
                row["department"],
                {z.strip() for z in row["zones"].split(";") if z.strip()},
                row["language"].lower() or "ko",
            )
        else:
            asset = await session.scalar(select(Asset).where(Asset.code == row["code"]))
            ok = asset is not None and (
                asset.type,
                asset.model,
                asset.department.name,
                asset.location,
                asset.purchased_on,
                asset.status,
            ) == (
                row["type"].lower(),
                row["model"],
                row["department"],
                row["location"],
                date.fromisoformat(row["purchased_on"]) if row["purchased_on"] else None,
                AssetStatus(row["status"].lower() or "in_service"),
            )
        if not ok:
            wrong.append(f"{file.kind} row {row} is not in the database as written")
    return wrong


async def import_once(sessionmaker: async_sessionmaker[AsyncSession], file: CsvFile) -> None:
    async with sessionmaker() as session:
        before = await hospital_snapshot(session)
    raw = file.raw()
    try:
        async with sessionmaker() as session, session.begin():  # as `repairbot import` does
            report = await Importer(session, FakeClock(), "ko").import_bytes(file.kind, raw)
    except ImportFailed as failure:
        assert not file.valid, f"a valid file was refused: {failure}"
        lines = raw.count(b"\n") + 1
        assert 1 <= failure.line <= lines and failure.reason, failure
        async with sessionmaker() as session:
            assert await hospital_snapshot(session) == before, f"{failure}, yet rows changed"
        return
    assert report.rows == len(file.rows), (report, file)
    async with sessionmaker() as session:
        assert not await imported_as_written(session, file)
        after = await hospital_snapshot(session)
    table = {ImportKind.DEPARTMENTS: "departments", ImportKind.STAFF: "staff"}.get(
        file.kind, "assets"
    )
    assert len(after[table]) == len(before[table]) + report.created, report


async def seed(engine: AsyncEngine) -> None:
    await _wipe(engine)
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, FakeClock())


def test_an_import_is_all_or_nothing(database_url: str) -> None:
    """Any file: either every row lands as written, or ImportFailed names a line and the
    database is exactly as before."""
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    with asyncio.Runner() as runner:
        # Once: imports only add and update, so each example can start where the last one
        # left the hospital (the checks compare before with after).
        runner.run(seed(engine))

        @settings(
            max_examples=100,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(csv_files())
        @example(_departments(("내과 병동", "x" * 81, "1")))  # PostgreSQL: value too long
        @example(_departments(("응급실", "A", "1"), ("중\x00환자실", "B", "1")))  # U+0000
        @example(_departments(("응급실", "A", "1"), ("병동", "A", "0" * 140_000)))  # csv.Error
        @example(_staff(("9" * 25, "X", "reporter", "", "", "ko")))  # beyond a BIGINT
        @example(_staff(("012", "X", "reporter", "", "", "ko"), ("12", "Y", "admin", "", "", "")))
        def check(file: CsvFile) -> None:
            runner.run(import_once(sessionmaker, file))

        try:
            check()
        finally:
            runner.run(engine.dispose())
