"""Getting a photo's bytes and the QR codes in it, without blocking the event loop."""

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.ticket_flow import DomainError
from bot.i18n import Translator
from bot.intake.qr import ImageError, decode_qr
from bot.models import Asset
from bot.services.assets import asset_from_scans

MAX_DOWNLOAD = 20 * 1024 * 1024
"""Telegram lets bots download files up to 20 MB."""


class UnreadableImage(DomainError):
    code = "unreadable_image"


class FileTooLarge(DomainError):
    code = "file_too_large"


@dataclass(frozen=True)
class Picture:
    file_id: str
    codes: list[str]


def picture_file(message: Message) -> tuple[str, int | None] | None:
    """The largest size of a photo, or an image sent as a file; None for anything else."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return largest.file_id, largest.file_size
    document = message.document
    if document and (document.mime_type or "").startswith("image/"):
        return document.file_id, document.file_size
    return None


async def read_picture(message: Message, bot: Bot, cpu: Executor) -> Picture:
    found = picture_file(message)
    if found is None:
        raise UnreadableImage()
    file_id, size = found
    if size is not None and size > MAX_DOWNLOAD:
        raise FileTooLarge()
    buffer = await bot.download(file_id)
    assert buffer is not None
    data = buffer.read()
    try:
        codes = await asyncio.get_running_loop().run_in_executor(cpu, decode_qr, data)
    except ImageError:
        raise UnreadableImage() from None
    return Picture(file_id, codes)


async def labelled_device(
    message: Message, session: AsyncSession, t: Translator, bot: Bot, cpu: Executor
) -> Asset | None:
    """The known device whose label is in the photo; otherwise says why not and gives None."""
    picture = await read_picture(message, bot, cpu)
    asset, code = await asset_from_scans(session, picture.codes)
    if asset is None:
        await message.answer(t("scan.no_code") if code is None else t("scan.unknown", code=code))
    return asset
