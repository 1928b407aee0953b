"""Admins manage roles in chat, every change lands in the append-only audit log, `/audit`
shows it; the logs refuse edits in the database itself."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from bot.app import App
from bot.domain.enums import Role
from bot.domain.invites import invite_payload
from bot.models import AuditEntry, Staff, TicketEvent
from bot.services.importer import Importer, ImportKind
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegram

ADMIN_CSV = "telegram_id,name,role,department,zones,language\n9500,최관리,admin,,,ko\n"


async def test_grant_revoke_and_audit(desk: App, tg: FakeTelegram, clock: FakeClock) -> None:
    async with desk.sessionmaker() as session:
        await Importer(session, clock, "ko").import_bytes(ImportKind.STAFF, ADMIN_CSV.encode())
        await session.commit()
    admin, nurse, boss = tg.user(9500), tg.user(5001), tg.user(9100)
    await nurse.send_command("grant", "5001 admin")
    await nurse.expect("알 수 없는 명령입니다")
    await boss.send_command("grant", "5001 engineer A")
    await boss.expect("알 수 없는 명령입니다")
    await admin.send_command("grant", "5001 engineer")
    await admin.expect("그렇게 바꿀 수 없습니다")
    await admin.send_command("grant", "5001 engineer Z")
    await admin.expect("그렇게 바꿀 수 없습니다")
    await admin.send_command("grant", "최간호 engineer A;B")
    await admin.expect("최간호: 역할을 engineer(으)로 바꿨습니다")
    await nurse.send_command("duty")
    await nurse.expect("근무를 시작")
    await admin.send_command("revoke", "5001")
    await admin.expect("최간호: 역할을 reporter(으)로 바꿨습니다")
    await admin.send_command("revoke", "9500")
    await admin.expect("자기 자신의 관리자 권한은 내려놓을 수 없습니다")
    await admin.send_command("grant", "누구 supervisor")
    await admin.expect("'누구'에 해당하는 사람이 없거나")
    async with desk.sessionmaker() as session:
        nurse_row = await session.scalar(select(Staff).where(Staff.telegram_id == 5001))
        assert nurse_row is not None and nurse_row.role is Role.REPORTER
        assert not nurse_row.on_duty
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(e.action, e.details["before"], e.details["after"]) for e in entries] == [
        ("role", "reporter", "engineer"),
        ("role", "engineer", "reporter"),
    ]
    assert entries[0].details["zones"] == ["A", "B"]
    await admin.send_command("audit")
    log = (await admin.expect("🧾 최근 감사 기록")).text
    assert "최관리: role 최간호" in log and "reporter" in log


async def test_the_logs_refuse_edits(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)
    await nurse.send_text("키보드 고장")
    await nurse.expect("접수되었습니다")
    async with desk.sessionmaker() as session:
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(update(TicketEvent).values(action="forged"))
        await session.rollback()
        if session.get_bind().dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                await session.execute(text("DELETE FROM ticket_events"))
            await session.rollback()


async def test_invite_link_makes_one_engineer_once_until_it_expires(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with desk.sessionmaker() as session:
        await Importer(session, clock, "ko").import_bytes(ImportKind.STAFF, ADMIN_CSV.encode())
        await session.commit()
    admin = tg.user(9500)
    await admin.send_command("invite", "Z")
    await admin.expect("사용법: /invite")
    await admin.send_command("invite", "A;B 2")
    message = await admin.expect("🔗 엔지니어 초대 링크 (구역 A, B, 2시간 유효")
    url = next(word for word in message.text.split() if word.startswith("https://t.me/"))
    payload = url.split("?start=")[1]
    assert len(payload) <= 64 and payload.startswith("i-")
    newcomer = tg.user(7777, "정신입")
    await newcomer.send_command("start", payload)
    await newcomer.expect("정신입님, 엔지니어로 등록되었습니다 (구역 A, B)")
    await newcomer.send_command("duty")
    await newcomer.expect("근무를 시작")
    other = tg.user(7778, "남다른")
    await other.send_command("start", payload)
    await other.expect("이미 사용된 초대 링크입니다")
    await other.send_command("start", payload[:-1] + ("A" if payload[-1] != "A" else "B"))
    await other.expect("초대 링크가 올바르지 않거나 기한이 지났습니다")
    secret = desk.settings.link_secret()
    old = invite_payload(secret, ["A"], datetime.now(UTC) - timedelta(seconds=1))
    await other.send_command("start", old)
    await other.expect("초대 링크가 올바르지 않거나 기한이 지났습니다")
    async with desk.sessionmaker() as session:
        joined = await session.scalar(select(Staff).where(Staff.telegram_id == 7777))
        assert joined is not None and joined.role is Role.ENGINEER
        assert joined.zone_names == frozenset({"A", "B"})
        stranger = await session.scalar(select(Staff).where(Staff.telegram_id == 7778))
        assert stranger is None or stranger.role is Role.REPORTER
