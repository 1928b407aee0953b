"""SLA reminders over the fake Bot API with a policy in seconds: remind, answer, escalate,
and a restart before the deadline still gives exactly one reminder."""

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.db import create_sessionmaker
from bot.domain.enums import Urgency
from bot.i18n import Translator
from bot.keyboards import DutyCb
from bot.models import Asset, Ticket, TicketEvent
from bot.services.importer import Importer, ImportKind
from bot.services.spares import SpareService
from bot.services.staff import staff_by_telegram_id
from bot.services.tickets import TicketService
from tests.conftest import FakeClock, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import FakeTelegram, UploadedFile
from tests.steps import file_repair_report


def drill(*, accept: str, loan: str, escalate_after: str) -> str:
    """An SLA policy with these limits for every urgency (repair 1h, sent out 7d)."""
    return "\n".join(
        f'[urgency.{u.value}]\naccept = "{accept}"\nrepair = "1h"\nsent_out = "7d"\n'
        f'loan = "{loan}"\nescalate_after = "{escalate_after}"\n'
        for u in Urgency
    )


DRILL = drill(accept="2s", loan="14d", escalate_after="2s")


async def test_remind_answer_escalate_and_survive_a_restart(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    (tmp_path / "drill.toml").write_text(DRILL)
    settings = bot_settings(
        database_url, tg, sla_policy=tmp_path / "drill.toml", sla_scan_every=timedelta(seconds=1)
    )
    engineer, nurse, supervisor = tg.user(9001), tg.user(5001), tg.user(9100)
    async with polling_bot(settings, tg):
        await engineer.send_command("duty")
        await engineer.expect("근무를 시작")
        await nurse.send_text("수액 펌프 모니터 꺼짐")
        await engineer.expect("새 작업 #1")
    # Stopped before the 2 s accept deadline; started again after it.
    async with polling_bot(settings, tg) as app:
        reminder = await engineer.expect("⏰ #1 수락 기한이", timeout=10)
        assert reminder.button_texts == ["⏳ 조금 뒤에", "🙋 처리 중"]
        await nurse.expect("⏰ #1 수락 기한이", timeout=10)
        await engineer.press("처리 중", reminder)
        assert await engineer.expect_answer() == "#1 처리 중으로 기록했습니다."
        await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
        alert = await supervisor.expect("🚨 #1 수락 기한 초과", timeout=10)
        assert "김엔지" in alert.text and "내과 병동" in alert.text
        await engineer.expect_nothing(within=2.5)  # no second reminder for the same deadline
        async with app.sessionmaker() as session:
            answers = (
                await session.scalars(
                    select(TicketEvent.action).where(TicketEvent.action.like("reminder_%"))
                )
            ).all()
        assert answers == ["reminder_on_it"]
    reminders = [
        o for o in engineer.outputs if o.method == "sendMessage" and o.text.startswith("⏰")
    ]
    assert len(reminders) == 1


async def test_supervisor_sees_overdue_and_switches_duty(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    (tmp_path / "drill.toml").write_text(DRILL)
    settings = bot_settings(database_url, tg, sla_policy=tmp_path / "drill.toml")
    engineer, other, nurse, supervisor = tg.user(9001), tg.user(9002), tg.user(5001), tg.user(9100)
    async with polling_bot(settings, tg):
        await supervisor.send_command("overdue")
        await supervisor.expect("기한이 지난 작업이 없습니다")
        await supervisor.send_command("engineers")
        board = await supervisor.expect("엔지니어 근무 현황")
        assert "⚪ 김엔지 · 구역 A · 대기열 0건" in board.text
        await supervisor.press("김엔지", board)
        assert await supervisor.expect_answer() == "김엔지: 근무 중"
        edited = await supervisor.expect("🟢 김엔지")
        assert edited.message_id == board.message_id
        await engineer.expect("박관리 관리자가 근무 중으로 바꿨습니다")
        await nurse.send_text("모니터 안 나옴")
        await engineer.expect("새 작업 #1")
        await asyncio.sleep(2.2)  # past the drill's 2 s accept limit
        await supervisor.send_command("overdue")
        late = await supervisor.expect("기한이 지난 작업 (1건)")
        assert "#1 수락" in late.text and "담당: 김엔지" in late.text
        await other.press_data(DutyCb(staff_id=9001, on=False).pack(), board)
        assert await other.expect_answer() == "You are not allowed to do that."
        await nurse.send_command("engineers")
        await nurse.expect("알 수 없는 명령입니다")


async def test_summary_matches_the_day_and_sends_a_chart(desk: App, tg: FakeTelegram) -> None:
    engineer, nurse, supervisor = tg.user(9001), tg.user(5001), tg.user(9100)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")
    for text in ("첫째 고장", "둘째 고장"):
        await nurse.send_text(text)
        await nurse.expect("접수되었습니다")
    job = await engineer.expect("새 작업 #1")
    await engineer.press("수락", job)
    await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
    await file_repair_report(engineer, job, "재부팅")
    await nurse.press("해결 확인", await nurse.expect("#1 처리 완료"))
    await nurse.expect("#1 종료되었습니다")

    await supervisor.send_command("summary")
    today = Translator("ko").day(datetime.now(desk.settings.tz).date())
    text = (await supervisor.expect(f"📊 {today} 수리 현황")).text
    assert "접수 2건 · 재요청 0건 · 종료 1건 · 진행 중 1건 · 기한 초과 0건" in text
    assert "- 김엔지: 1건 · 0분 · 0분" in text and "- Lee Eng: 0건 · - · -" in text
    assert "접수가 많은 부서: 내과 병동 2" in text
    chart = await supervisor.expect(predicate=lambda m: m.method == "sendPhoto")
    upload = tg.calls_to("sendPhoto")[-1].params["photo"]
    assert isinstance(upload, UploadedFile) and upload.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(upload.data)).size == (800, 360)
    assert chart.chat_id == 9100

    await supervisor.send_command("summary", "2020-01-01")
    old = (await supervisor.expect("📊 2020. 1. 1.")).text
    assert "접수 0건 · 재요청 0건 · 종료 0건 · 진행 중 1건" in old
    await supervisor.send_command("summary", "어제")
    await supervisor.expect("날짜는 2026-11-23 처럼 적어 주세요")


async def test_daily_summary_arrives_once_even_across_a_restart(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
    probe = bot_settings(database_url, tg)
    soon = (datetime.now(probe.tz) + timedelta(seconds=3)).time().replace(microsecond=0)
    settings = bot_settings(database_url, tg, summary_time=soon)
    supervisor = tg.user(9100)
    async with polling_bot(settings, tg):
        await supervisor.expect_nothing(within=1.0)  # not before its time
        text = await supervisor.expect("수리 현황", timeout=10)
        assert "접수 0건" in text.text
        chart = await supervisor.expect("최근 14일 접수와 종료", timeout=10)
        assert chart.method == "sendPhoto"
    async with polling_bot(settings, tg):  # the catch-up at start finds it already queued
        await supervisor.expect_nothing(within=1.5)
    photos = [c for c in tg.calls_to("sendPhoto") if c.params["chat_id"] == 9100]
    assert len(photos) == 1
    assert isinstance(photos[0].params["photo"], UploadedFile)
    assert photos[0].params["photo"].data.startswith(b"\x89PNG")


VENDOR_DRILL = (
    "\n".join(
        f'[urgency.{u.value}]\naccept = "1h"\nrepair = "1h"\nsent_out = "2s"\nloan = "3s"\n'
        'escalate_after = "1s"\n'
        for u in Urgency
    )
    + '\n[inspection]\npc = "30d"\n'
)

SPARE_CSV = """code,type,model,department,location,purchased_on,status
SP-0001,pc,HP ProDesk 400,원무과,전산실,2020-01-10,spare
"""


async def test_vendor_and_spare_loan_deadlines_and_an_inspection_ticket(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
        await Importer(session, clock, "ko").import_bytes(ImportKind.ASSETS, SPARE_CSV.encode())
        await session.commit()
    (tmp_path / "drill.toml").write_text(VENDOR_DRILL)
    settings = bot_settings(
        database_url,
        tg,
        sla_policy=tmp_path / "drill.toml",
        sla_scan_every=timedelta(seconds=1),
        inspections_per_day=5,
    )
    engineer, nurse, supervisor = tg.user(9001), tg.user(5001), tg.user(9100)
    async with polling_bot(settings, tg):
        # At start the PC is due its first inspection; nobody is on duty yet.
        await supervisor.expect("#1 (내과 병동, 낮음) 근무 중인 엔지니어가 없어")
        await engineer.send_command("duty")
        inspection = await engineer.expect("🔍 정기 점검 #1")
        assert "PC-0001" in inspection.text
        async with create_sessionmaker(engine)() as session:
            described = await session.scalar(select(Ticket.description).where(Ticket.id == 1))
        assert described == "정기 점검 (30일마다)"  # the hospital's language, as lists show it
        await nurse.send_command("start", "a-PC-0001")
        await nurse.send_text("전원 불량")
        job = await engineer.expect("새 작업 #2")
        await engineer.press("수락", job)
        await engineer.expect_answer("수락했습니다")
        await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
        await engineer.press("대체 장비 대여", job)
        await engineer.press("SP-0001", await engineer.expect("빌려줄 장비를 고르세요"))
        await engineer.expect_answer("대여를 기록했습니다")
        await engineer.press("업체 수리", job)
        await engineer.expect("업체 이름을")
        await engineer.send_text("델")
        await engineer.press("모름", await engineer.expect("예상 입고일은?"))
        await engineer.expect("🚚 #2 델에 보냈습니다")
        reminder = await engineer.expect("⏰ #2 외부 수리 기한이", timeout=10)
        assert reminder.button_texts == ["⏳ 조금 뒤에", "🙋 처리 중"]
        await nurse.expect("⏰ #2 외부 수리 기한이", timeout=10)
        await supervisor.expect("🚨 #2 외부 수리 기한 초과", timeout=10)
        loan = await engineer.expect("⏰ #2 대여 기한이", timeout=10)
        assert "SP-0001" in loan.text
        await nurse.expect("⏰ #2 대여 기한이", timeout=10)
        alert = await supervisor.expect("🚨 #2 대여 기한 초과", timeout=10)
        assert "SP-0001" in alert.text


LOAN_DRILL = drill(accept="1h", loan="2s", escalate_after="1h")


async def test_whoever_lent_the_spare_answers_its_reminder(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    """Regression: a loan's reminder went to the lender (here a supervisor), but only the
    ticket's assignee could answer it, and only engineers could press it."""
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, clock)
        await Importer(session, clock, "ko").import_bytes(ImportKind.ASSETS, SPARE_CSV.encode())
        await session.commit()
    (tmp_path / "drill.toml").write_text(LOAN_DRILL)
    settings = bot_settings(
        database_url, tg, sla_policy=tmp_path / "drill.toml", sla_scan_every=timedelta(seconds=1)
    )
    engineer, nurse, supervisor = tg.user(9001), tg.user(5001), tg.user(9100)
    async with polling_bot(settings, tg) as app:
        await engineer.send_command("duty")
        await engineer.expect("근무를 시작")
        await nurse.send_text("모니터 꺼짐")
        await engineer.press("수락", await engineer.expect("새 작업 #1"))
        await engineer.expect_answer("수락했습니다")
        async with app.sessionmaker() as session:
            boss = await staff_by_telegram_id(session, 9100)
            spare = await session.scalar(select(Asset.id).where(Asset.code == "SP-0001"))
            assert boss is not None and spare is not None
            await SpareService(TicketService(session, app.clock)).lend(boss, 1, spare)
            await session.commit()
        reminder = await supervisor.expect("⏰ #1 대여 기한이", timeout=10)
        assert "SP-0001" in reminder.text
        await supervisor.press("처리 중", reminder)
        assert await supervisor.expect_answer() == "#1 처리 중으로 기록했습니다."
        async with app.sessionmaker() as session:
            answers = (
                await session.execute(
                    select(TicketEvent.action, TicketEvent.actor_id, TicketEvent.data).where(
                        TicketEvent.action.like("reminder_%")
                    )
                )
            ).all()
        assert [tuple(row) for row in answers] == [("reminder_on_it", boss.id, {"stage": "loan"})]
