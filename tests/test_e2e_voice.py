"""Voice reports over the fake Bot API: transcript back, create or correct, bad audio refused."""

import asyncio

import numpy as np
from sqlalchemy import select

from bot.app import App
from bot.models import Attachment, AttachmentKind, Ticket
from bot.services.importer import Importer, ImportKind
from tests.audio import needs_speech_tools, ogg_opus, speech
from tests.conftest import FakeClock, register
from tests.fake_telegram import FakeTelegram

pytestmark = needs_speech_tools

KOREAN_DEVICES = """code,type,model,department,location,purchased_on,status
TEL-01,전화기,Avaya 9611,원무과,접수창구,,
KIO-01,키오스크,무인수납기 K3,원무과,로비,,
SCN-01,스캐너,Zebra DS2208,내과 병동,간호사실,,
"""


async def add_korean_devices(app: App, clock: FakeClock) -> None:
    async with app.sessionmaker() as session, session.begin():
        await Importer(session, clock, "ko").import_bytes(
            ImportKind.ASSETS, KOREAN_DEVICES.encode()
        )


async def voice_of(app: App, number: int) -> list[str]:
    async with app.sessionmaker() as session:
        rows = await session.scalars(
            select(Attachment.file_id).where(
                Attachment.ticket_id == number, Attachment.kind == AttachmentKind.VOICE
            )
        )
        return list(rows.all())


async def test_voice_report_prefills_and_keeps_the_recording(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    await add_korean_devices(desk, clock)
    nurse = tg.user(5001)  # a 내과 병동 nurse, reporting a fault at 원무과
    update = await nurse.send_voice(duration=3, data=speech("원무과 접수창구 전화기가 안 돼요"))
    heard = await nurse.expect("들은 내용", timeout=60)
    assert "부서: 원무과" in heard.text and "장비: 전화기" in heard.text
    await nurse.press("이대로 접수", heard)
    ack = await nurse.expect("접수되었습니다: #1")
    async with desk.sessionmaker() as session:
        ticket = await session.get(Ticket, 1)
        assert ticket is not None
        assert (ticket.department.name, ticket.device_type) == ("원무과", "전화기")
        assert ticket.description in heard.text and ticket.description in ack.text
    assert await voice_of(desk, 1) == [update["message"]["voice"]["file_id"]]
    engineer = tg.user(9001)
    await engineer.send_command("duty")
    job = await engineer.expect("새 작업 #1")
    await engineer.press("사진·녹음", job)
    await engineer.expect("#1 첨부", predicate=lambda m: m.method == "sendVoice")
    assert tg.calls_to("sendVoice")[-1].params["voice"] == update["message"]["voice"]["file_id"]


async def test_voice_draft_can_be_corrected_by_typing(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    await add_korean_devices(desk, clock)
    nurse = tg.user(5001)
    await nurse.send_voice(duration=3, data=speech("내과 병동 스캐너가 안 켜져요"))
    heard = await nurse.expect("들은 내용", timeout=60)
    await nurse.press("고쳐 쓰기", heard)
    await nurse.expect_answer()
    await nurse.expect("고장 내용을 글로 보내 주세요")
    await nurse.send_text("간호사실 바코드 스캐너 인식 불가")
    ack = await nurse.expect("접수되었습니다: #1")
    assert "간호사실 바코드 스캐너 인식 불가" in ack.text
    assert len(await voice_of(desk, 1)) == 1
    await nurse.press_data("v1:create", heard)  # the old draft's button, pressed again
    assert await nurse.expect_answer() == "더 이상 쓸 수 없는 버튼입니다."


async def test_text_is_answered_while_voices_are_transcribed(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    await add_korean_devices(desk, clock)
    await register(tg, 7776, "원무과")
    await register(tg, 7777, "응급실")
    talkers, typist = [tg.user(5001), tg.user(7776)], tg.user(7777)
    clip = speech("원무과 키오스크가 꺼져 있어요")
    await asyncio.gather(*(t.send_voice(duration=3, data=clip) for t in talkers))
    await typist.send_text("응급실 모니터 고장")
    await typist.expect("접수되었습니다: #1")
    assert all("들은 내용" not in o.text for t in talkers for o in t.outputs), (
        "the text was answered only after the voices"
    )
    for talker in talkers:
        await talker.expect("들은 내용", timeout=60)


async def test_bad_voice_messages(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    await nurse.send_voice(duration=600, data=speech("너무 긴 메시지"))
    await nurse.expect("음성 메시지가 너무 깁니다 (120초 이내")
    await nurse.send_voice(duration=2, data=ogg_opus(np.zeros(32_000, dtype=np.float32), 16_000))
    await nurse.expect("음성에서 말소리를 알아듣지 못했습니다", timeout=30)
    await nurse.send_voice(duration=2, data=b"OggS but not really")
    await nurse.expect("음성 파일을 읽을 수 없습니다")
    await nurse.send_document("memo.mp3", "audio/mpeg", data=b"ID3 fake")
    await nurse.expect("이 형식은 받을 수 없습니다")
    async with desk.sessionmaker() as session:
        assert await session.scalar(select(Ticket)) is None
