"""Voice notes heard in the background, from the note a reporter sent to the draft in their
chat. A note is a row (bot/services/voice_notes.py) until its draft is in the outbox, so a
stop, a crash or Telegram being down delays a note but does not lose it, and the outbox's
sender delivers the draft once, however long Telegram is away."""

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramNotFound
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.i18n import Translator
from bot.intake.listening import NothingHeard, Transcriber
from bot.intake.speech import AudioError, Interrupted
from bot.keyboards import voice_keyboard
from bot.notify.outbox import Outbox
from bot.services.assets import hospital_names
from bot.services.voice_notes import (
    NoteToHear,
    claim_waiting,
    done,
    give_back,
    put_off,
    renew,
)

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(minutes=1)
SWEEP_BATCH = 20
RETRY_AFTER = timedelta(minutes=1)
"""The wait after a failed attempt, times the attempts so far."""


class VoiceDraft(StatesGroup):
    confirming = State()
    correcting = State()


@dataclass(frozen=True)
class Reply:
    text: str
    markup: InlineKeyboardMarkup | None = None
    draft: dict[str, str | None] | None = None
    """The draft the reporter confirms or corrects: their conversation's data from now on."""


def _owner() -> str:
    """This process among replicas and restarts: host, pid and a random part (pids recur)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Hearing:
    def __init__(
        self,
        bot: Bot,
        storage: BaseStorage,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        transcriber: Transcriber,
        max_seconds: float,
        wake_sender: Callable[[], None],
    ) -> None:
        self.bot = bot
        self.storage = storage
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.transcriber = transcriber
        self.max_seconds = max_seconds
        self.wake_sender = wake_sender
        self.owner = _owner()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def busy(self) -> int:
        """Notes being heard now."""
        return len(self._tasks)

    def hear(self, note: NoteToHear) -> None:
        """Hear a note this process holds, in the background: its update is handled already,
        so the reporter's next message need not wait for the transcription."""
        if self._closing:
            return  # the stop gives it back, or its first claim runs out (HANDOVER)
        task = asyncio.create_task(self._hear(note), name=f"voice-note-{note.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sweep(self) -> int:
        """Claim and hear the notes nobody holds; how many."""
        async with self.sessionmaker() as session:
            notes = await claim_waiting(session, self.owner, self.clock.now(), SWEEP_BATCH)
            await session.commit()
        for note in notes:
            self.hear(note)
        return len(notes)

    async def start(self) -> asyncio.Task[None]:
        """Claim what the last stop gave back, before the updates waiting are taken, then
        sweep every minute in the background."""
        await self.sweep()
        return asyncio.create_task(self._sweep_every_minute(), name="voice-notes")

    async def _sweep_every_minute(self) -> None:
        """For the notes a crash let go, or a failure put off."""
        while True:
            await asyncio.sleep(SWEEP_EVERY.total_seconds())
            try:
                await self.sweep()
            except Exception:
                log.exception("voice notes: the sweep failed; trying again in a minute")

    async def stop(self, grace: float) -> None:
        """Let the notes in hand finish for up to `grace` seconds, then cut the rest off and
        give them back, so the next start hears them at once."""
        self._closing = True
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)
        self.transcriber.interrupt()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        async with self.sessionmaker() as session:
            given = await give_back(session, self.owner)
            await session.commit()
        if given:
            log.warning("stopping: %d voice notes given back, to be heard at the next start", given)

    async def _hear(self, note: NoteToHear) -> None:
        t = Translator(note.language)
        try:
            async with self.sessionmaker() as session:
                held = await renew(session, note, self.owner, self.clock.now())
                await session.commit()
            if not held:
                log.warning("voice note %s: the claim ran out and passed on", note.id)
                return
            reply = Reply(t("voice.given_up")) if note.given_up else await self._listen(note, t)
            await self._tell(note, reply)
        except Interrupted:
            pass  # stopping: given back
        except Exception:  # Telegram or the database away, or a fault of ours: later
            log.warning("voice note %s: not heard; trying again later", note.id, exc_info=True)
            later = self.clock.now() + RETRY_AFTER * note.attempts
            async with self.sessionmaker() as session:
                await put_off(session, note, self.owner, later)
                await session.commit()

    async def _listen(self, note: NoteToHear, t: Translator) -> Reply:
        try:
            audio = await self.bot.download(note.file_id)
        except (TelegramBadRequest, TelegramNotFound):  # no such file, or too large to fetch
            return Reply(t("error.unreadable_audio"))
        assert audio is not None
        async with self.sessionmaker() as session:
            names = await hospital_names(session)
        try:
            heard = await self.transcriber.listen(audio.read(), self.max_seconds, names)
        except AudioError:
            return Reply(t("error.unreadable_audio"))
        except NothingHeard:
            return Reply(t("error.nothing_heard"))
        unsure = t("voice.unsure")
        text = t(
            "voice.heard",
            text=heard.text,
            department=heard.department or unsure,
            device=heard.device_type or unsure,
        )
        draft = {
            "voice": note.file_id,
            "text": heard.text,
            "department": heard.department,
            "device": heard.device_type,
        }
        return Reply(text, voice_keyboard(t), draft)

    async def _tell(self, note: NoteToHear, reply: Reply) -> None:
        """Drop the note and queue its reply in one transaction: the reply goes out once."""
        async with self.sessionmaker() as session:
            if not await done(session, note, self.owner):
                log.warning("voice note %s: the claim ran out and passed on", note.id)
                return
            if reply.draft is not None:  # before the draft's buttons can be pressed
                key = StorageKey(bot_id=self.bot.id, chat_id=note.chat_id, user_id=note.user_id)
                state = FSMContext(self.storage, key)
                await state.set_state(VoiceDraft.confirming)
                await state.update_data(reply.draft)
            outbox = Outbox(session, self.clock)
            outbox.add_message(note.chat_id, reply.text, reply.markup)
            await outbox.write()
            await session.commit()
        self.wake_sender()
