"""The tests' fake Bot API: the emulator that `repairbot demo` runs too (bot/emulator/)."""

from bot.emulator.telegram import (
    BOT_USER,
    ApiCall,
    FakeTelegram,
    FakeUser,
    SentMessage,
    UploadedFile,
    _buttons,
)

__all__ = [
    "BOT_USER",
    "ApiCall",
    "FakeTelegram",
    "FakeUser",
    "SentMessage",
    "UploadedFile",
    "_buttons",
]
