"""Multi-step conversations that many tests go through, driven by the catalogs' own texts so
that they press exactly the buttons a person would see."""

from bot.i18n import Translator
from tests.fake_telegram import FakeUser, SentMessage


async def file_repair_report(
    engineer: FakeUser,
    job: SentMessage,
    action: str,
    *,
    language: str = "ko",
    cause: str = "hardware",
    parts: str | None = None,
    cost: str | None = None,
    minutes: str = "30",
) -> SentMessage:
    """Press Resolved on `job` and answer the five questions; returns the engineer's summary."""
    t = Translator(language)
    await engineer.press(t("button.resolve"), job)
    question = await engineer.expect("(1/5)")
    await engineer.press(t(f"report.cause_{cause}"), question)
    await engineer.expect("(2/5)")
    await engineer.send_text(action)
    question = await engineer.expect("(3/5)")
    if parts is None:
        await engineer.press(t("report.no_parts"), question)
    else:
        await engineer.send_text(parts)
    question = await engineer.expect("(4/5)")
    if cost is None:
        await engineer.press(t("report.no_cost"), question)
    else:
        await engineer.send_text(cost)
    question = await engineer.expect("(5/5)")
    label = t("report.minutes", minutes=minutes)
    if minutes.isdigit() and label in question.button_texts:
        await engineer.press(label, question)
    else:
        await engineer.send_text(minutes)
    return await engineer.expect("✅ #")
