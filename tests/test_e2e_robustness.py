"""Bad input, Telegram faults and restarts: polite answers, nothing lost, nothing doubled."""

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.db import create_sessionmaker
from bot.domain.enums import TicketStatus
from bot.models import OutboxMessage, OutboxStatus, Ticket, TicketEvent
from bot.services.importer import Importer, ImportKind
from tests.conftest import FakeClock, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.steps import file_repair_report


async def scalar(app: App, query):  # type: ignore[no-untyped-def]
    async with app.sessionmaker() as session:
        return await session.scalar(query)


async def engineer_on_duty(tg: FakeTelegram, user_id: int = 9001) -> None:
    engineer = tg.user(user_id)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")


async def accept(engineer: FakeUser, job: SentMessage) -> None:
    """Accept a job and wait for its buttons to change."""
    await engineer.press("수락", job)
    await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")


async def test_junk_input_gets_polite_answers_and_creates_nothing(
    desk: App, tg: FakeTelegram
) -> None:
    nurse, engineer, supervisor, stranger = (
        tg.user(5001),
        tg.user(9001),
        tg.user(9100),
        tg.user(4242),
    )
    cases = [
        (nurse.send_sticker(), nurse, "이 형식은 받을 수 없습니다"),
        (nurse.send_document("scan.pdf"), nurse, "이 형식은 받을 수 없습니다"),
        (nurse.send_voice(), nurse, "음성 파일을 읽을 수 없습니다"),
        (nurse.send_command("reboot_everything"), nurse, "알 수 없는 명령입니다"),
        (nurse.send_command("queue"), nurse, "알 수 없는 명령입니다"),  # engineers only
        (nurse.send_text("가" * 2001), nurse, "내용이 너무 깁니다 (2000자 이내"),
        # PostgreSQL cannot store U+0000: refused ahead of the ward users' text report
        (nurse.send_text("프린터\x00고장"), nurse, "이 형식은 받을 수 없습니다"),
        (engineer.send_text("프린터 고장"), engineer, "엔지니어 계정입니다"),
        (engineer.send_command("my"), engineer, "알 수 없는 명령입니다"),
        (
            supervisor.send_text("보고합니다"),
            supervisor,
            "관리자 계정에서는 글로 접수할 수 없습니다",
        ),
        (supervisor.send_command("duty"), supervisor, "알 수 없는 명령입니다"),
        (stranger.send_text("안녕하세요"), stranger, "먼저 /start 를 눌러 등록해 주세요"),
        (stranger.send_sticker(), stranger, "먼저 /start 를 눌러 등록해 주세요"),
        (stranger.send_command("my"), stranger, "먼저 /start 를 눌러 등록해 주세요"),
    ]
    for send, user, reply in cases:
        await send
        await user.expect(reply)
    assert await scalar(desk, select(func.count()).select_from(Ticket)) == 0
    assert await scalar(desk, select(func.count()).select_from(TicketEvent)) == 0


async def test_english_user_gets_english(desk: App, tg: FakeTelegram) -> None:
    visitor = tg.user(4343, "Sam", language_code="en-GB")
    await visitor.send_command("start")
    await visitor.expect("Hello Sam, this is the hospital IT repair desk")
    await visitor.send_sticker()
    await visitor.expect("I can't take this kind of message")


async def test_engineer_can_abandon_the_report_step(desk: App, tg: FakeTelegram) -> None:
    await engineer_on_duty(tg)
    engineer, nurse = tg.user(9001), tg.user(5001)
    await nurse.send_text("바코드 스캐너")
    job = await engineer.expect("새 작업 #1")
    await accept(engineer, job)
    await engineer.press("처리 완료", job)
    await engineer.press("하드웨어", await engineer.expect("(1/5)"))
    await engineer.press("그만두기", await engineer.expect("(2/5)"))
    await engineer.expect_answer("입력을 그만두었습니다")
    await engineer.send_text("이건 보고가 아닙니다")
    await engineer.expect("엔지니어 계정입니다")
    assert (await scalar(desk, select(Ticket.status))) is TicketStatus.ACCEPTED


async def test_telegram_errors_delay_but_never_lose_or_double_a_message(
    desk: App, tg: FakeTelegram
) -> None:
    await engineer_on_duty(tg)
    nurse, engineer = tg.user(5001), tg.user(9001)
    tg.fail_next("sendMessage", 500, times=1, chat_id=5001)
    tg.fail_next("sendMessage", 429, retry_after=1, times=1, chat_id=9001)
    await nurse.send_text("네트워크 프린터 오프라인")
    await nurse.expect("접수되었습니다: #1", timeout=10)
    await engineer.expect("새 작업 #1", timeout=10)
    await asyncio.sleep(0.5)
    delivered = [c for c in tg.calls_to("sendMessage") if not c.failed and "#1" in c.params["text"]]
    assert sorted(c.params["chat_id"] for c in delivered) == [5001, 9001]
    failed = [c for c in tg.calls_to("sendMessage") if c.failed]
    assert len(failed) == 2


async def test_blocked_user_is_recorded_and_others_still_served(
    desk: App, tg: FakeTelegram
) -> None:
    await engineer_on_duty(tg)
    tg.fail_next("sendMessage", 403, times=1, chat_id=5001)  # the nurse blocked the bot
    await tg.user(5001).send_text("모니터 깜빡임")
    await tg.user(9001).expect("새 작업 #1")
    for _ in range(50):
        failed = await scalar(
            desk, select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        )
        if failed is not None:
            break
        await asyncio.sleep(0.1)
    assert failed is not None and failed.chat_id == 5001
    assert "blocked" in (failed.last_error or "")


async def test_telegram_down_for_a_while(desk: App, tg: FakeTelegram) -> None:
    tg.fail_next("getUpdates", 502, times=2)
    nurse = tg.user(5001)
    await nurse.send_text("전자차트 접속 불가")
    await nurse.expect("접수되었습니다: #1", timeout=15)


async def test_pending_notice_survives_a_restart(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    settings = bot_settings(database_url, tg)
    nurse = tg.user(5001)
    tg.fail_next("sendMessage", 502, times=10_000)  # Telegram accepts updates but sends fail
    async with polling_bot(settings, tg) as app:
        await nurse.send_text("재시작 전 접수")
        for _ in range(50):
            if await scalar(app, select(func.count()).select_from(OutboxMessage)):
                break
            await asyncio.sleep(0.1)
        await tg.wait_for_call("sendMessage")
    async with create_sessionmaker(engine)() as session:  # the app's own engine is closed now
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
        )
    assert pending == 2  # the nurse's receipt and the supervisors' alert
    tg.clear_faults()
    async with polling_bot(settings, tg):
        ack = await nurse.expect("접수되었습니다: #1", timeout=10)
        assert "재시작 전 접수" in ack.text
        await tg.user(9100).expect("#1", timeout=10)
        await nurse.expect_nothing(within=0.5)


async def test_resolved_ticket_auto_closes(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    settings = bot_settings(
        database_url,
        tg,
        auto_close_after=timedelta(seconds=1),
        auto_close_check_every=timedelta(seconds=1),
    )
    async with polling_bot(settings, tg) as app:
        await engineer_on_duty(tg)
        nurse, engineer = tg.user(5001), tg.user(9001)
        await nurse.send_text("키보드 고장")
        job = await engineer.expect("새 작업 #1")
        await accept(engineer, job)
        await file_repair_report(engineer, job, "키보드 교체")
        await nurse.expect("#1 처리 완료")
        await nurse.expect("#1 확인 기간이 지나 자동으로 종료되었습니다", timeout=10)
        ticket = await scalar(app, select(Ticket))
        assert ticket.status is TicketStatus.CLOSED
        assert ticket.closed_at - ticket.resolved_at >= timedelta(seconds=1)


async def test_department_picker_pages(desk: App, tg: FakeTelegram, clock: FakeClock) -> None:
    rows = "\n".join(f"병동 {n:02d},A,0" for n in range(20))
    async with desk.sessionmaker() as session, session.begin():
        await Importer(session, clock, "ko").import_bytes(
            ImportKind.DEPARTMENTS, f"name,zone,priority\n{rows}\n".encode()
        )
    nurse = tg.user(7100)
    await nurse.send_command("start")
    first = await nurse.expect("(1/3 쪽)")
    assert len(first.buttons) == 11 and first.button_texts[-1] == "다음 ▶"
    await nurse.press("다음", first)
    second = await nurse.expect("(2/3 쪽)")
    assert second.message_id == first.message_id and second.button_texts[-2:] == [
        "◀ 이전",
        "다음 ▶",
    ]
    await nurse.press("병동 12", second)
    await nurse.expect("소속 부서: 병동 12")


async def test_simultaneous_presses_by_two_people(desk: App, tg: FakeTelegram) -> None:
    """The engineer accepts while the nurse cancels: both answered, state consistent."""
    await engineer_on_duty(tg)
    nurse, engineer = tg.user(5001), tg.user(9001)
    for number in range(1, 6):
        await nurse.send_text(f"동시 {number}")
        ack = await nurse.expect(f"#{number}")
        job = await engineer.expect(f"새 작업 #{number}")
        await asyncio.gather(engineer.press("수락", job), nurse.press("접수 취소", ack))
        answers = {await engineer.expect_answer(), await nurse.expect_answer()}
        accepted, cancelled = f"#{number} 수락했습니다.", f"#{number} 취소했습니다."
        assert cancelled in answers
        assert answers - {accepted, cancelled} <= {
            f"#{number}은(는) 지금 '취소됨' 상태라 이 버튼을 쓸 수 없습니다."
        }
        ticket = await scalar(desk, select(Ticket).where(Ticket.id == number))
        assert ticket.status is TicketStatus.CANCELLED
        actions = (
            await scalar(
                desk,
                select(func.count())
                .select_from(TicketEvent)
                .where(
                    TicketEvent.ticket_id == number, TicketEvent.action.in_(["accept", "cancel"])
                ),
            )
        ) or 0
        assert actions in {1, 2}
