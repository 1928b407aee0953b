"""Whole conversations over HTTP: the real bot, long polling a fake Telegram Bot API server."""

from sqlalchemy import func, select

from bot.app import App
from bot.domain.enums import TicketStatus
from bot.domain.ticket_flow import Action
from bot.keyboards import TicketCb
from bot.models import Staff, Ticket, TicketEvent
from tests.conftest import register
from tests.fake_telegram import FakeTelegram
from tests.steps import file_repair_report

S = TicketStatus


async def ticket_row(app: App, number: int) -> Ticket:
    async with app.sessionmaker() as session:
        ticket = await session.get(Ticket, number)
        assert ticket is not None
        return ticket


async def count_tickets(app: App) -> int:
    async with app.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Ticket)) or 0


async def test_report_dispatch_accept_resolve_confirm(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9001, "김엔지")
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작했습니다")

    await register(tg, 7001, "내과 병동", "이간호")
    nurse = tg.user(7001)
    await nurse.send_text("3층 간호사실 프린터가 인쇄가 안 됩니다")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "담당: 김엔지" in ack.text and "대기 순서: 다음 차례" in ack.text
    assert {"🔴 긴급", "🟢 보통", "✖️ 접수 취소"} <= set(ack.button_texts)

    job = await engineer.expect("새 작업 #1")
    assert "내과 병동" in job.text and "이간호" in job.text and "프린터" in job.text
    await engineer.press("수락", job)
    assert await engineer.expect_answer() == "#1 수락했습니다."
    edited = await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
    assert edited.button_texts == [
        "📍 현장 도착",
        "🛠 처리 완료",
        "🔀 이관",
        "🤝 지원 요청",
        "🚚 업체 수리",
        "🔁 대체 장비 대여",
    ]
    assert "김엔지 엔지니어가 작업을 수락" in (await nurse.expect("#1")).text

    await engineer.press("현장 도착", job)
    await engineer.expect_answer("현장 도착")
    await nurse.expect("#1 김엔지 엔지니어가 현장에 도착했습니다")

    summary = await file_repair_report(engineer, job, "토너 카트리지 교체", cost="35,000원")
    assert "원인: 하드웨어" in summary.text and "비용: 35,000원" in summary.text
    resolved = await nurse.expect("#1 처리 완료: 토너 카트리지 교체")
    assert resolved.button_texts == ["👍 해결 확인", "↩️ 다시 요청"]

    await nurse.press("해결 확인", resolved)
    assert await nurse.expect_answer() == "#1 종료했습니다. 감사합니다."
    await nurse.expect("#1 종료되었습니다")
    await engineer.expect("#1 요청자가 해결을 확인했습니다")

    ticket = await ticket_row(desk, 1)
    assert ticket.status is S.CLOSED and ticket.resolution == "토너 카트리지 교체"
    async with desk.sessionmaker() as session:
        actions = (await session.scalars(select(TicketEvent.action).order_by(TicketEvent.id))).all()
    assert actions == ["report", "assign", "accept", "arrive", "resolve", "confirm"]


async def test_reopen_returns_the_job_and_english_engineer(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9002, "Lee", language_code="en")
    await engineer.send_command("duty")
    await engineer.expect("You are on duty")
    await register(tg, 7002, "외과 병동")
    nurse = tg.user(7002)
    await nurse.send_text("수술실 모니터 화면이 안 나옴")
    await nurse.expect("담당: Lee Eng")
    job = await engineer.expect("New job #1 [normal]")
    await engineer.press("Accept", job)
    await engineer.expect_answer("#1 accepted.")
    await engineer.expect(predicate=lambda m: m.button_texts[:2] == ["📍 On site", "🛠 Resolved"])
    await file_repair_report(engineer, job, "Reseated the cable", language="en", cause="other")
    await nurse.press("다시 요청", await nurse.expect("#1 처리 완료: Reseated the cable"))
    await nurse.expect("#1 다시 접수되었습니다")
    reopened = await engineer.expect("Reopened job #1")
    assert reopened.button_texts == ["✅ Accept", "🔀 Transfer"]
    assert (await ticket_row(desk, 1)).status is S.ASSIGNED


async def test_nobody_on_duty_then_an_engineer_arrives(desk: App, tg: FakeTelegram) -> None:
    supervisor = tg.user(9100)
    nurse = tg.user(5001)  # imported with a department: no registration needed
    await nurse.send_text("원무과 키오스크 카드 리더기 고장")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "배정 대기" in ack.text
    await supervisor.expect("#1 (내과 병동, 보통) 근무 중인 엔지니어가 없어")
    engineer = tg.user(9002, language_code="en")
    await engineer.send_command("duty")
    await engineer.expect("New job #1")
    await nurse.expect("#1 담당 엔지니어가 배정되었습니다: Lee Eng")


async def test_queue_priority_urgency_and_my(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9001)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")
    ward = tg.user(5001)
    await ward.send_text("첫 번째 고장")
    await ward.expect("#1")
    await ward.send_text("두 번째 고장")
    second = await ward.expect("#2")
    await register(tg, 7003, "응급실")
    er = tg.user(7003)
    await er.send_text("응급실 접수 PC 멈춤")
    assert "대기 순서: 다음 차례" in (await er.expect("#3")).text
    assert "🚨 우선 부서" in (await engineer.expect("#3")).text

    await ward.press("긴급", second)
    assert await ward.expect_answer() == "#2 긴급도: 긴급"
    changed = await engineer.expect("#2 긴급도가 긴급(으)로 바뀌었습니다")
    assert "앞에 1건" in changed.text

    await engineer.send_command("queue")
    queue = await engineer.expect("내 작업 대기열 (3건)")
    lines = queue.text.splitlines()
    assert lines[1].startswith("1. 🚨 우선 부서 #3") and lines[3].startswith("2. #2")
    assert lines[5].startswith("3. #1")

    await ward.send_command("my")
    mine = await ward.expect("내 접수 현황")
    assert "#1 배정됨 · 보통 · 김엔지" in mine.text and "앞에 2건" in mine.text
    assert "#2 배정됨 · 긴급" in mine.text and "앞에 1건" in mine.text


async def test_new_user_text_before_department_is_kept(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(7004, "신규")
    await nurse.send_command("start")
    await nurse.expect("소속 부서를 선택해")
    await nurse.send_text("산부인과 PC 느림")
    await nurse.expect("보관해 두었습니다")
    await nurse.press("원무과")
    await nurse.expect("소속 부서: 원무과")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "산부인과 PC 느림" in ack.text
    async with desk.sessionmaker() as session:
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == 7004))
    assert staff is not None and staff.department is not None


async def test_reporter_cancels(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9001)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")
    nurse = tg.user(5001)
    await nurse.send_text("잘못 보냄")
    await nurse.press("접수 취소", await nurse.expect("#1"))
    assert await nurse.expect_answer() == "#1 취소했습니다."
    await engineer.expect("#1 요청자가 접수를 취소했습니다")
    assert (await ticket_row(desk, 1)).status is S.CANCELLED


async def test_forged_and_stale_presses_change_nothing(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9001)
    await engineer.send_command("duty")
    nurse = tg.user(5001)
    await nurse.send_text("스캐너 인식 불가")
    await nurse.expect("#1")
    job = await engineer.expect("새 작업 #1")

    accept = TicketCb(action=Action.ACCEPT, ticket_id=1).pack()
    await nurse.press_data(accept)  # a ward user forging an engineer's button
    assert await nurse.expect_answer() == "이 작업을 할 권한이 없습니다."
    other_engineer = tg.user(9002, language_code="en")
    await other_engineer.press_data(accept, job)
    assert await other_engineer.expect_answer() == "You are not allowed to do that."
    supervisor = tg.user(9100)
    await supervisor.press_data(accept, job)
    assert await supervisor.expect_answer() == "이 작업을 할 권한이 없습니다."
    stranger = tg.user(6666)
    await stranger.press_data(accept, job)
    assert await stranger.expect_answer() == "먼저 /start 를 눌러 등록해 주세요."
    await nurse.press_data("zz:nonsense")
    assert await nurse.expect_answer() == "더 이상 쓸 수 없는 버튼입니다."
    await nurse.press_data(TicketCb(action=Action.CONFIRM, ticket_id=1).pack())
    assert "'배정됨' 상태라" in await nurse.expect_answer()
    await nurse.press_data(TicketCb(action=Action.CANCEL, ticket_id=999).pack())
    assert await nurse.expect_answer() == "해당 접수를 찾을 수 없습니다."
    assert (await ticket_row(desk, 1)).status is S.ASSIGNED

    await engineer.press("수락", job)
    await engineer.expect_answer("수락했습니다")
    await engineer.press_data(accept, job)  # the same button again, e.g. a double tap
    assert "'수락됨' 상태라" in await engineer.expect_answer()
    async with desk.sessionmaker() as session:
        accepts = await session.scalar(
            select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "accept")
        )
    assert accepts == 1
