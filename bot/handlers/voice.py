"""Ward staff report by voice: the transcript comes back as a draft to send as is or correct."""

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.ticket_flow import DomainError
from bot.filters import TEXT, VOICE
from bot.handlers.media import MAX_DOWNLOAD, FileTooLarge
from bot.handlers.replies import set_buttons
from bot.i18n import Translator
from bot.intake.hearing import Hearing, VoiceDraft
from bot.keyboards import VoiceAction, VoiceCb
from bot.middlewares import READS_SENDER
from bot.models import AttachmentKind, Department, Staff
from bot.services.intake import Intake, ReportRequest
from bot.services.voice_notes import take
from bot.unit_of_work import UnitOfWork


class VoiceTooLong(DomainError):
    code = "voice_too_long"


async def report_voice(
    message: Message, t: Translator, uow: UnitOfWork, settings: Settings, hearing: Hearing
) -> None:
    """The note is kept (and the update marked handled) before it is heard: a stop or a crash
    during the transcription delays the draft, it does not lose it."""
    voice = message.voice
    assert voice is not None and message.from_user is not None
    if voice.duration > settings.voice_max_seconds:
        raise VoiceTooLong(limit=settings.voice_max_seconds)
    if voice.file_size is not None and voice.file_size > MAX_DOWNLOAD:
        raise FileTooLarge()
    note = await take(
        uow.session,
        chat_id=message.chat.id,
        user_id=message.from_user.id,
        file_id=voice.file_id,
        language=t.language,
        owner=hearing.owner,
        now=uow.clock.now(),
    )
    await uow.commit()
    hearing.hear(note)
    await message.answer(t("voice.received"))


async def _file(
    staff: Staff,
    text: str,
    session: AsyncSession,
    state: FSMContext,
    intake: Intake,
    uow: UnitOfWork,
) -> None:
    data = await state.get_data()
    department = None
    if data.get("department"):
        department = await session.scalar(
            select(Department.id).where(Department.name == data["department"])
        )
    request = ReportRequest(
        staff.id,
        text,
        department_id=department,
        device_type=data.get("device"),
        attachments=((AttachmentKind.VOICE, data["voice"]),),
        update_id=await uow.hand_over(),
    )
    await intake.file(request)
    await state.clear()


async def voice_choice(
    callback: CallbackQuery,
    callback_data: VoiceCb,
    session: AsyncSession,
    staff: Staff,
    t: Translator,
    state: FSMContext,
    intake: Intake,
    uow: UnitOfWork,
) -> None:
    data = await state.get_data()
    if await state.get_state() != VoiceDraft.confirming.state or "voice" not in data:
        await callback.answer(t("error.stale_button"), show_alert=True)
        return
    if callback_data.action is VoiceAction.CREATE:
        await _file(staff, data["text"], session, state, intake, uow)
        await callback.answer()
    else:
        await state.set_state(VoiceDraft.correcting)
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(t("voice.fix"))
    await set_buttons(callback, None)


async def corrected_text(
    message: Message,
    session: AsyncSession,
    staff: Staff,
    state: FSMContext,
    intake: Intake,
    uow: UnitOfWork,
) -> None:
    await _file(staff, message.text or "", session, state, intake, uow)


def register(router: Router) -> None:
    """On the ward users' router (`bot.handlers.reporter`), ahead of its text report, which
    would take a correction's text; a plain text then crosses one router fewer."""
    router.message.register(report_voice, VOICE)
    router.callback_query.register(voice_choice, VoiceCb.filter())
    router.message.register(
        corrected_text, StateFilter(VoiceDraft.correcting), TEXT, flags=READS_SENDER
    )
