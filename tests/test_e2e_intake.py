"""Reports from label photos and deep links, duplicate scans, and engineers binding devices."""

import io

from PIL import Image
from sqlalchemy import select

from bot.app import App
from bot.domain.deeplinks import asset_payload
from bot.labels import LabelData, label_image, qr_image
from bot.models import Attachment, Ticket
from tests.fake_telegram import FakeTelegram

BOT = "repairbot_test_bot"  # the fake server's getMe username


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def label_photo(code: str) -> bytes:
    return png(label_image(LabelData(code, "HP LaserJet M404", "접수창구", "응급실"), BOT))


async def ticket(app: App, number: int) -> Ticket:
    async with app.sessionmaker() as session:
        found = await session.get(Ticket, number)
        assert found is not None
        return found


async def attachments(app: App, number: int) -> list[str]:
    async with app.sessionmaker() as session:
        rows = await session.scalars(
            select(Attachment.file_id).where(Attachment.ticket_id == number)
        )
        return list(rows.all())


async def test_deep_link_from_a_new_phone_reports_that_device(desk: App, tg: FakeTelegram) -> None:
    engineer = tg.user(9001)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")
    nurse = tg.user(7301, "응급간호사")
    await nurse.send_command("start", asset_payload("PR-0001"))
    await nurse.expect("응급간호사님, 병원 IT 수리 접수 봇입니다")
    prompt = await nurse.expect("이 장비의 고장 내용을")
    assert "장비: PR-0001 · HP LaserJet M404 · 접수창구" in prompt.text
    await nurse.send_text("용지가 계속 걸립니다")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "장비: PR-0001" in ack.text
    job = await engineer.expect("새 작업 #1")
    assert "🚨 우선 부서" in job.text and "부서: 응급실" in job.text and "PR-0001" in job.text
    saved = await ticket(desk, 1)
    assert saved.asset is not None and saved.asset.code == "PR-0001"
    assert saved.department.name == "응급실"  # the device's department, not asked for
    assert saved.reporter.department is not None and saved.reporter.department.name == "응급실"


async def test_second_scan_shows_the_open_ticket_then_allows_a_new_fault(
    desk: App, tg: FakeTelegram
) -> None:
    first, second = tg.user(5001), tg.user(7302)
    await first.send_command("start", asset_payload("PC-0001"))
    await first.expect("이 장비의 고장 내용을")
    await first.send_text("전원이 안 켜짐")
    await first.expect("접수되었습니다: #1")

    await second.send_command("start", asset_payload("PC-0001"))
    card = await second.expect("이 장비는 이미 접수되어 있습니다: #1")
    assert "배정 대기" in card.text and "장비: PC-0001" in card.text
    await second.press("다른 고장 새로 접수", card)
    await second.expect("이 장비의 고장 내용을")
    await second.send_text("키보드 불량")
    await second.expect("접수되었습니다: #2")
    assert (await ticket(desk, 2)).asset.code == "PC-0001"  # type: ignore[union-attr]


async def test_label_photo_with_caption_reports_at_once(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    await nurse.send_photo(label_photo("PR-0001"), caption="토너 부족 경고")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "토너 부족 경고" in ack.text and "장비: PR-0001" in ack.text
    assert len(await attachments(desk, 1)) == 1


async def test_label_photo_without_caption_asks_what_is_wrong(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    await nurse.send_photo(label_photo("PR-0001"))
    await nurse.expect("이 장비의 고장 내용을")
    await nurse.send_text("인쇄가 흐리게 나옴")
    await nurse.expect("접수되었습니다: #1")
    assert len(await attachments(desk, 1)) == 1  # the label photo stays with the report


async def test_photo_without_a_code_is_still_a_report(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    blank = png(Image.new("RGB", (640, 480), (180, 190, 200)))
    await nurse.send_photo(blank, caption="모니터 화면 깨짐")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "모니터 화면 깨짐" in ack.text
    await nurse.send_photo(blank)
    assert "(사진으로 접수)" in (await nurse.expect("접수되었습니다: #2")).text


async def test_unknown_code_is_said_and_the_photo_still_reported(
    desk: App, tg: FakeTelegram
) -> None:
    nurse = tg.user(5001)
    await nurse.send_photo(png(qr_image("ZZ-9999", 400)))
    await nurse.expect("QR 코드 'ZZ-9999'에 해당하는 장비가 등록되어 있지 않습니다")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "[등록되지 않은 QR: ZZ-9999]" in ack.text


async def test_engineer_binds_the_device_with_a_label_photo(desk: App, tg: FakeTelegram) -> None:
    engineer, nurse = tg.user(9001), tg.user(5001)
    await engineer.send_command("duty")
    await nurse.send_text("간호사실 PC가 느려요")
    job = await engineer.expect("새 작업 #1")
    await engineer.send_photo(label_photo("PC-0001"))
    card = await engineer.expect("🏷 PC-0001 · pc · Dell OptiPlex 7090")  # no job in hand yet
    assert "상태: 사용 중" in card.text and "수리 0건" in card.text
    await engineer.press("수락", job)
    await engineer.expect_answer("수락했습니다")
    await engineer.send_photo(label_photo("PC-0001"))
    await engineer.expect("#1에 장비 PC-0001을(를) 지정했습니다")
    bound = await nurse.expect("#1 장비가 지정되었습니다")
    assert "Dell OptiPlex 7090" in bound.text
    assert (await ticket(desk, 1)).asset.code == "PC-0001"  # type: ignore[union-attr]


async def test_engineer_with_two_jobs_picks_one(desk: App, tg: FakeTelegram) -> None:
    engineer, nurse = tg.user(9001), tg.user(5001)
    await engineer.send_command("duty")
    for number, text in ((1, "하나"), (2, "둘")):
        await nurse.send_text(text)
        job = await engineer.expect(f"새 작업 #{number}")
        await engineer.press("수락", job)
        await engineer.expect_answer("수락했습니다")
    await engineer.send_photo(label_photo("PC-0001"))
    choice = await engineer.expect("장비 PC-0001을(를) 어느 작업에 지정할까요?")
    assert choice.button_texts == ["#1 하나", "#2 둘"]
    await engineer.press("#2", choice)
    assert await engineer.expect_answer() == "#2에 장비 PC-0001을(를) 지정했습니다."
    assert (await ticket(desk, 2)).asset.code == "PC-0001"  # type: ignore[union-attr]
    assert (await ticket(desk, 1)).asset is None


async def test_bad_pictures_and_links(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    await nurse.send_document("scan.png", "image/png", data=b"this is not a png")
    await nurse.expect("이미지를 읽을 수 없습니다")
    await nurse.send_document("manual.pdf", "application/pdf")
    await nurse.expect("이 형식은 받을 수 없습니다")
    huge = await tg.push_update(
        {
            "message": {
                "message_id": 999,
                "date": 0,
                "chat": {"id": 5001, "type": "private"},
                "from": nurse.as_user,
                "document": {
                    "file_id": "big",
                    "file_unique_id": "big",
                    "file_name": "x.jpg",
                    "mime_type": "image/jpeg",
                    "file_size": 50_000_000,
                },
            }
        }
    )
    assert huge["update_id"]
    await nurse.expect("파일이 너무 큽니다")
    await nurse.send_command("start", "not-a-label")
    await nurse.expect("라벨 링크를 읽을 수 없습니다")
    await nurse.send_command("start", asset_payload("NOPE-1"))
    await nurse.expect("QR 코드 'NOPE-1'에 해당하는 장비가 등록되어 있지 않습니다")
    async with desk.sessionmaker() as session:
        assert await session.scalar(select(Ticket)) is None


async def test_engineer_sees_the_reporters_photo(desk: App, tg: FakeTelegram) -> None:
    engineer, nurse = tg.user(9001), tg.user(5001)
    await engineer.send_command("duty")
    await engineer.expect("근무를 시작")
    update = await nurse.send_photo(label_photo("PR-0001"), caption="용지함 파손")
    job = await engineer.expect("새 작업 #1")
    assert "📎 사진·녹음" in job.button_texts
    await tg.user(9002).press_data(job.buttons[-1][1] or "", job)  # another engineer
    assert await tg.user(9002).expect_answer() == "You are not allowed to do that."
    await nurse.press_data(job.buttons[-1][1] or "", job)  # the ward user
    assert await nurse.expect_answer() == "이 작업을 할 권한이 없습니다."
    await engineer.press("사진·녹음", job)
    photo = await engineer.expect("#1 첨부", predicate=lambda m: m.method == "sendPhoto")
    sent_id = tg.calls_to("sendPhoto")[-1].params["photo"]
    assert sent_id == update["message"]["photo"][-1]["file_id"]  # the largest size
    assert photo.chat_id == 9001
