"""Voice notes are kept until heard: claims on both backends, a stop that cuts a transcription
off, Telegram down during the download, and a note that never comes through."""

import asyncio
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import App
from bot.clock import Clock
from bot.db import create_sessionmaker
from bot.models import Attachment, AttachmentKind, Ticket, VoiceNote
from bot.services.voice_notes import (
    HANDOVER,
    LEASE,
    MAX_ATTEMPTS,
    claim_waiting,
    done,
    give_back,
    put_off,
    renew,
    take,
)
from tests.audio import needs_speech_tools, speech
from tests.conftest import FakeClock, bot_settings, polling_bot, seed_hospital
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.test_e2e_voice import add_korean_devices

RECEIVED = "음성 메시지를 받았습니다"
HEARD = "들은 내용"
PHONE_DOWN = "원무과 접수창구 전화기가 안 돼요"


def _drafts(nurse: FakeUser) -> int:
    return len([o for o in nurse.outputs if HEARD in o.text and o.method == "sendMessage"])


async def _take(session: AsyncSession, clock: Clock, owner: str, file_id: str) -> int:
    note = await take(
        session,
        chat_id=5001,
        user_id=5001,
        file_id=file_id,
        language="ko",
        owner=owner,
        now=clock.now(),
    )
    await session.commit()
    return note.id


async def _notes(sessionmaker: async_sessionmaker[AsyncSession]) -> list[VoiceNote]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(VoiceNote).order_by(VoiceNote.id))).all())


async def test_a_held_note_is_claimed_by_nobody_else_until_given_back(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessionmaker() as session:
        first = await _take(session, clock, "a", "f1")
        await _take(session, clock, "a", "f2")
        assert await claim_waiting(session, "b", clock.now(), 10) == []
        assert await give_back(session, "a") == 2
        await session.commit()
        claimed = await claim_waiting(session, "b", clock.now(), 1)
        await session.commit()
        assert [(n.id, n.file_id, n.attempts) for n in claimed] == [(first, "f1", 1)]
        assert not await done(session, claimed[0], "a"), "a no longer holds it"
        assert await done(session, claimed[0], "b")
        await session.commit()
    assert [(n.file_id, n.claimed_by, n.attempts) for n in await _notes(sessionmaker)] == [
        ("f2", None, 0)
    ]


async def test_a_claim_runs_out_and_a_put_off_note_waits_its_turn(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessionmaker() as session:
        await _take(session, clock, "crashed", "f1")
        clock.advance(seconds=LEASE.total_seconds() + 1)
        [note] = await claim_waiting(session, "b", clock.now(), 10)
        await session.commit()
        assert note.attempts == 2 and not note.given_up
        await put_off(session, note, "b", clock.now() + timedelta(minutes=2))
        await session.commit()
        assert await claim_waiting(session, "c", clock.now(), 10) == []
        clock.advance(minutes=3)
        [again] = await claim_waiting(session, "c", clock.now(), 10)
        assert again.attempts == 3 and not again.given_up
        clock.advance(seconds=LEASE.total_seconds() + 1)
        [last] = await claim_waiting(session, "d", clock.now(), 10)
        assert last.attempts == MAX_ATTEMPTS + 1 and last.given_up


async def test_a_note_whose_hearing_never_starts_is_free_after_the_handover_not_a_lease(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """A handler that outlived a stop: its note committed after the stop gave the notes back,
    and no hearing starts for it. Another process takes it after HANDOVER."""
    async with sessionmaker() as session:
        await _take(session, clock, "stopped", "f1")
        assert HANDOVER < LEASE
        clock.advance(seconds=HANDOVER.total_seconds() - 1)
        assert await claim_waiting(session, "b", clock.now(), 10) == []
        clock.advance(seconds=2)
        [note] = await claim_waiting(session, "b", clock.now(), 10)
        await session.commit()
        assert note.file_id == "f1" and not note.given_up


async def test_a_hearing_that_starts_holds_its_note_for_a_lease(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessionmaker() as session:
        note = await take(
            session,
            chat_id=5001,
            user_id=5001,
            file_id="f1",
            language="ko",
            owner="a",
            now=clock.now(),
        )
        await _take(session, clock, "stalled", "f2")
        assert await renew(session, note, "a", clock.now())
        await session.commit()
        clock.advance(seconds=HANDOVER.total_seconds() + 1)
        [other] = await claim_waiting(session, "b", clock.now(), 10)
        await session.commit()
        assert other.file_id == "f2", "the renewed note stays with a"
        assert not await renew(session, other, "stalled", clock.now()), "b took it meanwhile"
        clock.advance(seconds=LEASE.total_seconds())
        [late] = await claim_waiting(session, "c", clock.now(), 10)
        assert late.id == note.id


async def test_replicas_sweeping_at_once_share_the_notes_out(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    """Each of three sweepers, on connections of their own, gets notes no other got."""
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        for n in range(30):
            await _take(session, clock, "gone", f"f{n}")
        await give_back(session, "gone")
        await session.commit()

    async def sweep(owner: str) -> list[int]:
        got: list[int] = []
        while True:
            async with sessionmaker() as session:
                notes = await claim_waiting(session, owner, clock.now(), 4)
                await session.commit()
            if not notes:
                return got
            got += [note.id for note in notes]
            await asyncio.sleep(0)

    shares = await asyncio.gather(*(sweep(owner) for owner in "xyz"))
    every = [note for share in shares for note in share]
    assert sorted(every) == [note.id for note in await _notes(sessionmaker)]
    assert len(set(every)) == 30


async def _filed_with_voice(app: App) -> list[str]:
    async with app.sessionmaker() as session:
        ticket = await session.get(Ticket, 1)
        assert ticket is not None and ticket.department.name == "원무과"
        voices = await session.scalars(
            select(Attachment.file_id).where(
                Attachment.ticket_id == 1, Attachment.kind == AttachmentKind.VOICE
            )
        )
        return list(voices.all())


@needs_speech_tools
async def test_a_note_cut_off_by_a_stop_is_heard_after_the_restart(
    database_url: str, engine: AsyncEngine, tg: FakeTelegram, clock: FakeClock
) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        await seed_hospital(session, clock)
    # The first note of a process waits seconds for the model's load: the stop comes first.
    settings = bot_settings(database_url, tg, shutdown_grace=timedelta(milliseconds=100))
    nurse = tg.user(5001)
    async with polling_bot(settings, tg) as first:
        await add_korean_devices(first, clock)
        update = await nurse.send_voice(duration=3, data=speech(PHONE_DOWN))
        await nurse.expect(RECEIVED)
    assert all(HEARD not in out.text for out in nurse.outputs)
    [kept] = await _notes(sessionmaker)
    assert (kept.claimed_by, kept.claimed_until, kept.attempts) == (None, None, 0)
    async with polling_bot(settings, tg) as second:
        heard = await nurse.expect(HEARD, timeout=60)
        assert "부서: 원무과" in heard.text
        await nurse.press("이대로 접수", heard)
        await nurse.expect("접수되었습니다: #1")
        assert await _filed_with_voice(second) == [update["message"]["voice"]["file_id"]]
    assert await _notes(sessionmaker) == []
    assert _drafts(nurse) == 1


async def _phone_down_by_voice(desk: App, tg: FakeTelegram, clock: FakeClock) -> FakeUser:
    """The nurse reports the broken phone by voice; the note is taken."""
    await add_korean_devices(desk, clock)
    nurse = tg.user(5001)
    await nurse.send_voice(duration=3, data=speech(PHONE_DOWN))
    await nurse.expect(RECEIVED)
    return nurse


@needs_speech_tools
async def test_telegram_down_during_the_download_puts_the_note_off(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    hearing = desk.dispatcher["hearing"]
    tg.fail_next("getFile", 502, "Bad Gateway", times=1000)
    nurse = await _phone_down_by_voice(desk, tg, clock)
    async with asyncio.timeout(10):
        while hearing.busy or not (notes := await _notes(desk.sessionmaker)) or notes[0].claimed_by:
            await asyncio.sleep(0.02)
    [note] = notes
    assert note.claimed_until is not None and note.attempts == 1
    assert await hearing.sweep() == 0, "put off: not claimed again at once"
    tg.clear_faults()
    async with desk.sessionmaker() as session:  # the minute passes
        await session.execute(update(VoiceNote).values(claimed_until=note.received_at))
        await session.commit()
    assert await hearing.sweep() == 1
    heard = await nurse.expect(HEARD, timeout=60)
    await nurse.press("이대로 접수", heard)
    await nurse.expect("접수되었습니다: #1")
    assert len(await _filed_with_voice(desk)) == 1
    assert await _notes(desk.sessionmaker) == []


@needs_speech_tools
async def test_telegram_down_when_the_draft_is_ready_delays_it_and_hears_the_note_once(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    nurse = await _phone_down_by_voice(desk, tg, clock)  # the model's load leaves seconds
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=5001)
    tg.fail_next("sendMessage", 502, "Bad Gateway", chat_id=5001)
    heard = await nurse.expect(HEARD, timeout=60)
    refused = [c for c in tg.calls_to("sendMessage") if c.failed]
    assert [HEARD in str(c.params["text"]) for c in refused] == [True, True]
    assert len(tg.calls_to("getFile")) == 1, "the outbox retried the draft, not the hearing"
    assert await _notes(desk.sessionmaker) == []
    await nurse.press("이대로 접수", heard)
    await nurse.expect("접수되었습니다: #1")
    assert _drafts(nurse) == 1


async def test_a_note_that_never_comes_through_is_owned_up_to(
    desk: App, tg: FakeTelegram, clock: FakeClock
) -> None:
    async with desk.sessionmaker() as session:
        await _take(session, desk.clock, "crashed", "f1")  # the app's clock: its sweeps see it held
        await session.execute(update(VoiceNote).values(attempts=MAX_ATTEMPTS, claimed_until=None))
        await session.commit()
    assert await desk.dispatcher["hearing"].sweep() == 1
    await tg.user(5001).expect("음성 메시지를 글로 옮기지 못했습니다")
    async with asyncio.timeout(5):
        while await _notes(desk.sessionmaker):
            await asyncio.sleep(0.02)
    assert not tg.calls_to("getFile")
