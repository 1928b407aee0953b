"""The engineer's toolkit over the fake Bot API: transfer, helper, vendor repair, spare loans,
the asset card and its life cycle, the knowledge base and ward self-help."""

from decimal import Decimal

from sqlalchemy import select

from bot.app import App
from bot.domain.enums import AssetStatus, TicketStatus
from bot.domain.ticket_flow import Tool
from bot.keyboards import LendCb, PickCb, PickPurpose, ToolCb
from bot.models import Asset, AssetEvent, KbArticle, SpareLoan, Ticket, VendorRepair
from bot.services.importer import Importer, ImportKind
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.steps import file_repair_report
from tests.test_e2e_intake import label_photo

SPARES_CSV = """code,type,model,department,location,purchased_on,status
SP-0002,printer,HP LaserJet M404,원무과,전산실 선반 2,2020-01-10,spare
SP-0001,pc,HP ProDesk 400,원무과,전산실 선반 1,2020-01-10,spare
"""


async def row(app: App, model: type, ident: int) -> object:
    async with app.sessionmaker() as session:
        return await session.get(model, ident)


async def ticket(app: App, number: int) -> Ticket:
    found = await row(app, Ticket, number)
    assert isinstance(found, Ticket)
    return found


async def asset(app: App, code: str) -> Asset:
    async with app.sessionmaker() as session:
        found = await session.scalar(select(Asset).where(Asset.code == code))
        assert found is not None
        return found


async def on_duty(tg: FakeTelegram, *ids: int) -> None:
    for user_id in ids:
        engineer = tg.user(user_id)
        await engineer.send_command("duty")
        await engineer.expect(predicate=lambda m: "근무를 시작" in m.text or "on duty" in m.text)


async def report_device(nurse: FakeUser, code: str, fault: str) -> None:
    """Scan the device's label link and describe the fault."""
    await nurse.send_command("start", f"a-{code}")
    await nurse.expect("고장 내용을")
    await nurse.send_text(fault)
    await nurse.expect("접수되었습니다")


async def accepted_job(engineer: FakeUser, contains: str) -> SentMessage:
    job = await engineer.expect(contains)
    await engineer.press("수락", job)
    await engineer.expect_answer("수락했습니다")
    await engineer.expect(predicate=lambda m: m.method == "editMessageReplyMarkup")
    return job


async def test_transfer_with_a_reason_moves_the_job_and_tells_everyone(
    desk: App, tg: FakeTelegram
) -> None:
    await on_duty(tg, 9001, 9002)
    kim, lee, nurse = tg.user(9001), tg.user(9002), tg.user(5001)
    await nurse.send_text("내과 병동 PC 부팅 안 됨")
    job = await accepted_job(kim, "새 작업 #1")
    await kim.press("이관", job)
    picker = await kim.expect("#1를 누구에게 이관할까요?")
    assert picker.button_texts == ["Lee Eng (대기 0)", "✖️ 그만두기"]
    await kim.press("Lee Eng", picker)
    await kim.expect("#1 이관 사유를 적어 주세요")
    await kim.send_text("B동 장비 전문")
    await kim.expect("#1를 Lee Eng에게 이관했습니다")
    handed = await lee.expect("Job #1 handed to you [normal] (by 김엔지)")
    assert "Reason: B동 장비 전문" in handed.text
    assert handed.button_texts == ["✅ Accept", "🔀 Transfer"]
    await nurse.expect("#1 담당 엔지니어가 바뀌었습니다: Lee Eng")
    moved = await ticket(desk, 1)
    assert (moved.status, moved.assignee.name) == (TicketStatus.ASSIGNED, "Lee Eng")
    # The old job message's buttons are stale for 김엔지 now: refused on the server.
    await kim.press("이관", job)
    await kim.expect_answer("권한이 없습니다")
    await kim.press_data(PickCb(purpose=PickPurpose.TRANSFER, ticket_id=1, staff_id=9001).pack())
    await kim.expect_answer("권한이 없습니다")


async def test_helper_joins_sees_the_job_and_can_resolve_it(desk: App, tg: FakeTelegram) -> None:
    await on_duty(tg, 9001, 9002)
    kim, lee, nurse = tg.user(9001), tg.user(9002), tg.user(5001)
    await nurse.send_text("모니터 두 대 모두 화면 없음")
    job = await accepted_job(kim, "새 작업 #1")
    await nurse.press_data(ToolCb(tool=Tool.HELPER, ticket_id=1).pack())
    await nurse.expect_answer("권한이 없습니다")
    await kim.press("지원 요청", job)
    await kim.press("Lee Eng", await kim.expect("#1 작업에 누구를 부를까요?"))
    await kim.expect_answer("#1에 지원 엔지니어를 불렀습니다.")
    invite = await lee.expect("🤝 김엔지 asks for your help on #1")
    assert invite.button_texts == ["📍 On site", "🛠 Resolved", "🔁 Lend a spare"]
    await nurse.expect("#1 작업에 Lee Eng 엔지니어가 함께합니다")
    await lee.press_data(ToolCb(tool=Tool.HELPER, ticket_id=1).pack(), invite)
    await lee.expect_answer("not allowed")  # only the assignee invites
    await file_repair_report(lee, invite, "Swapped the DP cable", language="en", minutes="45")
    await nurse.expect("#1 처리 완료: Swapped the DP cable")
    resolved = await ticket(desk, 1)
    assert resolved.status is TicketStatus.RESOLVED and resolved.assignee.name == "김엔지"
    assert [h.name for h in resolved.helpers] == ["Lee Eng"]
    boss = tg.user(9100)
    await boss.send_command("summary")
    summary = (await boss.expect("📊")).text
    assert "- 김엔지: 0건 · 0분 · 0분 · 처리 1 · 지원 0 · 0분" in summary
    assert "- Lee Eng: 0건 · - · - · 처리 0 · 지원 1 · 45분" in summary


async def test_send_out_and_back_with_costs_on_the_asset_card(desk: App, tg: FakeTelegram) -> None:
    await on_duty(tg, 9001)
    kim, nurse = tg.user(9001), tg.user(5001)
    await report_device(nurse, "PC-0001", "전원이 아예 안 들어와요")
    job = await accepted_job(kim, "새 작업 #1")
    assert (await asset(desk, "PC-0001")).status is AssetStatus.IN_REPAIR
    await kim.press("업체 수리", job)
    await kim.expect("#1 수리를 맡길 업체 이름을")
    await kim.send_text("델 서비스센터")
    await kim.expect("#1 예상 입고일은?")
    await kim.send_text("어제쯤")
    await kim.expect("날짜를 2026-12-01 이나")
    await kim.send_text("7d")
    await kim.expect("🚚 #1 델 서비스센터에 보냈습니다")
    sent = await nurse.expect("#1 장비를 외부 업체(델 서비스센터)에 수리 의뢰했습니다")
    assert "예상 입고일: 20" in sent.text
    assert (await ticket(desk, 1)).status is TicketStatus.SENT_OUT
    assert (await asset(desk, "PC-0001")).status is AssetStatus.SENT_OUT

    await kim.press("입고", await kim.expect("🚚 #1 업체 수리 중"))
    await kim.press("수리됨", await kim.expect("#1 업체 수리 결과는?"))
    await kim.expect("#1 업체에 지불한 비용")
    await kim.send_text("120,000")
    await kim.expect("📦 #1 입고 처리했습니다: 수리됨")
    await nurse.expect("#1 장비가 업체 수리에서 돌아왔습니다 (수리됨)")
    back = await kim.expect("📦 #1 장비 입고 완료")
    assert (await asset(desk, "PC-0001")).status is AssetStatus.IN_REPAIR
    await file_repair_report(kim, back, "파워 재장착", cost="5000")
    assert (await asset(desk, "PC-0001")).status is AssetStatus.IN_SERVICE
    async with desk.sessionmaker() as session:
        repair = await session.scalar(select(VendorRepair))
        assert repair is not None and repair.cost == Decimal("120000")
        assert (repair.vendor, repair.result) == ("델 서비스센터", "repaired")

    await kim.send_command("asset", "pc-0001")
    card = await kim.expect("🏷 PC-0001 · pc · Dell OptiPlex 7090")
    assert "수리 1건 · 총 비용 125,000원" in card.text
    assert "#1" in card.text and "파워 재장착" in card.text
    assert "사용 중 → 수리 중" in card.text and "수리 중 → 업체 수리 중" in card.text
    await nurse.send_command("asset", "PC-0001")
    await nurse.expect("알 수 없는 명령입니다")


async def test_spare_lent_for_a_job_and_returned_from_the_pool(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with desk.sessionmaker() as session:
        await Importer(session, clock, "ko").import_bytes(ImportKind.ASSETS, SPARES_CSV.encode())
        await session.commit()
    await on_duty(tg, 9001)
    kim, nurse, boss = tg.user(9001), tg.user(5001), tg.user(9100)
    await report_device(nurse, "PC-0001", "메인보드 고장 같아요")
    job = await accepted_job(kim, "새 작업 #1")
    await kim.press("대체 장비 대여", job)
    offer = await kim.expect("#1 내과 병동에 빌려줄 장비를 고르세요")
    assert offer.button_texts[:2] == [
        "SP-0001 · pc · HP ProDesk 400",
        "SP-0002 · printer · HP LaserJet M404",
    ]
    spare = await asset(desk, "SP-0001")
    await nurse.press_data(LendCb(ticket_id=1, spare_id=spare.id).pack())
    await nurse.expect_answer("권한이 없습니다")
    await kim.press("SP-0001", offer)
    await kim.expect_answer("#1 대체 장비 대여를 기록했습니다.")
    await nurse.expect("대체 장비 SP-0001 (HP ProDesk 400)를 빌려 드렸습니다")
    assert (await asset(desk, "SP-0001")).status is AssetStatus.ON_LOAN
    await kim.press_data(LendCb(ticket_id=1, spare_id=spare.id).pack())  # pressed twice
    await kim.expect_answer("이미 대여 중")

    await boss.send_command("spares")
    pool = await boss.expect("🔁 대체 장비 (1대)")
    assert "SP-0002" in pool.text and "대여 중 (1건)" in pool.text
    assert "SP-0001 · HP ProDesk 400 → 내과 병동 (#1," in pool.text
    await boss.press("SP-0001 반납 확인", pool)
    await boss.expect_answer("다시 대기 장비")
    await nurse.expect("#1 대체 장비 SP-0001 반납이 확인되었습니다")
    assert (await asset(desk, "SP-0001")).status is AssetStatus.SPARE
    await boss.press("SP-0001 반납 확인", pool)  # a stale button
    await boss.expect_answer("이미 대여 중이거나 반납")
    async with desk.sessionmaker() as session:
        loan = await session.scalar(select(SpareLoan))
        assert loan is not None and loan.returned_at is not None
        moves = (
            await session.execute(
                select(AssetEvent.from_status, AssetEvent.to_status)
                .where(AssetEvent.asset_id == spare.id)
                .order_by(AssetEvent.id)
            )
        ).all()
    assert [tuple(m) for m in moves] == [
        (AssetStatus.SPARE, AssetStatus.ON_LOAN),
        (AssetStatus.ON_LOAN, AssetStatus.SPARE),
    ]


async def test_supervisor_scraps_a_device_with_a_reason(desk: App, tg: FakeTelegram) -> None:
    boss = tg.user(9100)
    await boss.send_photo(label_photo("PR-0001"))
    card = await boss.expect("🏷 PR-0001 · printer · HP LaserJet M404")
    assert card.button_texts == ["→ 대체 장비", "→ 폐기"]
    await boss.press("폐기", card)
    await boss.expect("폐기 변경 사유를 적어 주세요")
    await boss.send_text("드럼 단종, 수리 불가")
    await boss.expect("PR-0001 상태를 폐기(으)로 바꿨습니다")
    await boss.press("대체 장비", card)  # the card's other button is stale now
    await boss.expect_answer("더 이상 쓸 수 없는 버튼")
    await boss.send_command("asset", "PR-0001")
    again = await boss.expect("상태: 폐기")
    assert "사용 중 → 폐기: 드럼 단종, 수리 불가" in again.text and again.button_texts == []
    await boss.send_command("asset", "NOPE-1")
    await boss.expect("'NOPE-1' 코드의 장비가 없습니다")


async def test_fix_added_to_the_knowledge_base_is_suggested_on_the_next_job(
    desk: App, tg: FakeTelegram
) -> None:
    await on_duty(tg, 9001)
    kim, nurse = tg.user(9001), tg.user(5001)
    await report_device(nurse, "PC-0001", "PC가 너무 느려요")
    job = await accepted_job(kim, "새 작업 #1")
    done = await file_repair_report(kim, job, "디스크 정리 후 SSD 교체", parts="SSD 256GB")
    await nurse.press("해결 확인", await nurse.expect("#1 처리 완료"))
    await kim.press("지식베이스에 추가", done)
    await kim.expect_answer("#1 조치를 지식베이스에 추가했습니다.")
    await kim.press("지식베이스에 추가", done)
    await kim.expect_answer("이미 지식베이스에")

    await report_device(nurse, "PC-0001", "컴퓨터가 느려졌어요")
    await accepted_job(kim, "새 작업 #2")
    hint = await kim.expect("📚 #2와 비슷한 지난 조치")
    assert "PC가 너무 느려요 [Dell OptiPlex 7090]" in hint.text
    assert "디스크 정리 후 SSD 교체 (SSD 256GB)" in hint.text
    await kim.send_command("kb", "느려요")
    assert "SSD 교체" in (await kim.expect("📚 '느려요' 검색 결과")).text
    await kim.send_command("kb", "")
    await kim.expect("검색어를 함께 보내 주세요")


async def test_ward_self_help_closes_without_an_engineer(desk: App, tg: FakeTelegram) -> None:
    await on_duty(tg, 9001)
    kim, nurse = tg.user(9001), tg.user(5001)
    await report_device(nurse, "PR-0001", "용지 걸림 표시가 떠요")
    job = await accepted_job(kim, "새 작업 #1")
    done = await file_repair_report(kim, job, "뒷 덮개를 열고 걸린 용지를 천천히 빼기")
    await kim.press("병동 자가조치로 추가", done)
    await kim.expect_answer("병동 자가조치로 추가했습니다")
    await nurse.press("해결 확인", await nurse.expect("#1 처리 완료"))

    await nurse.send_command("start", "a-PR-0001")
    tips = await nurse.expect("🙋 PR-0001 (HP LaserJet M404): 엔지니어를 부르기 전에")
    assert "걸린 용지를 천천히 빼기" in tips.text
    await nurse.expect("고장 내용을")
    await nurse.press("1번으로 해결됐어요", tips)
    await nurse.expect("자가 해결로 기록했습니다 (#2)")
    solved = await ticket(desk, 2)
    assert solved.status is TicketStatus.CLOSED and solved.assignee_id is None
    assert solved.self_help_article_id is not None
    article = await row(desk, KbArticle, solved.self_help_article_id)
    assert isinstance(article, KbArticle) and article.self_solved == 1
    boss = tg.user(9100)
    await boss.send_command("summary")
    assert (
        "종료 2건 · 진행 중 0건 · 기한 초과 0건 · 자가 해결 1건" in (await boss.expect("📊")).text
    )
    # "Did not help": the reporter just describes the fault, as the prompt says.
    await nurse.send_command("start", "a-PR-0001")
    await nurse.expect("🙋 PR-0001")
    await nurse.send_text("용지를 빼도 계속 걸림 표시")
    await nurse.expect("접수되었습니다: #3")
