"""Every message exists in every language, with the same placeholders, compiled; Chinese is
Chinese; Telegram's codes map to our languages; dates read as each locale writes them; and over
the fake Bot API a Chinese phone gets Chinese and /language switches for good."""

import re
import string
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from sqlalchemy import select

from bot.app import App
from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import Translator, catalog, language_name, pick_language
from bot.models import Staff
from tests.fake_telegram import FakeTelegram
from tests.test_web_dashboard import dashboard_link

LOCALES = Path(__file__).resolve().parents[1] / "bot" / "locales"
SEOUL = ZoneInfo("Asia/Seoul")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
HAN = re.compile(r"[\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def problems(reference: dict[str, str], other: dict[str, str]) -> list[str]:
    """What is wrong with a catalog next to the Korean one: missing or extra ids, untranslated
    messages, placeholders that differ."""
    found = [f"missing {key}" for key in reference.keys() - other.keys()]
    found += [f"unknown {key}" for key in other.keys() - reference.keys()]
    for key, text in reference.items():
        if key not in other:
            continue
        if not other[key]:
            found.append(f"untranslated {key}")
        elif placeholders(other[key]) != placeholders(text):
            found.append(f"placeholders of {key}: {sorted(placeholders(other[key]))}")
    return sorted(found)


def po_messages(path: Path) -> dict[str, str]:
    with path.open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id and not m.fuzzy}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_catalog_is_complete_with_the_same_placeholders(language: str) -> None:
    assert problems(catalog("ko"), catalog(language)) == []


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_compiled_catalog_is_the_po_file(language: str) -> None:
    po = po_messages(LOCALES / language / "LC_MESSAGES" / "messages.po")
    assert catalog(language) == po, "run scripts/compile-locales"


def test_the_checker_catches_a_broken_catalog(tmp_path: Path) -> None:
    """A catalog written and compiled as a translator would, with three mistakes in it."""
    broken = Catalog(locale="en")
    for key, text in catalog("en").items():
        if key == "ticket.closed":
            continue  # forgotten
        mistyped = text.replace("{engineer}", "{enginer}") if key == "ticket.created" else text
        broken.add(key, "" if key == "my.empty" else mistyped)  # left empty
    broken.add("ticket.bogus", "stale")
    po_path = tmp_path / "messages.po"
    with po_path.open("wb") as po:
        write_po(po, broken)
    compiled = BytesIO()
    write_mo(compiled, broken)
    assert problems(catalog("ko"), po_messages(po_path)) == [
        "missing ticket.closed",
        "placeholders of ticket.created: "
        "['description', 'device', 'enginer', 'eta', 'number', 'position', 'urgency']",
        "unknown ticket.bogus",
        "untranslated my.empty",
    ]
    assert compiled.getvalue()  # and it still compiles: only the check stops it


def test_every_key_the_code_names_exists() -> None:
    """Every "section.key" literal in the bot whose section is a catalog's is in the catalog
    (`t(...)` calls, form steps, notice keys)."""
    source = "\n".join(p.read_text("utf-8") for p in (LOCALES.parent).rglob("*.py"))
    sections = {key.split(".")[0] for key in catalog("ko")}
    named = {
        f"{section}.{name}"
        for section, name in re.findall(r"\"([a-z_]+)\.([a-z0-9_]*[a-z0-9])\"", source)
        if section in sections
    }
    assert len(named) > 200
    assert named - catalog("ko").keys() == set()


def test_chinese_is_chinese_not_a_copy() -> None:
    """Every message with words in Korean has Chinese characters in Chinese, and no Hangul
    (the language menu's own names aside)."""
    korean, english, chinese = catalog("ko"), catalog("en"), catalog("zh")
    for key, text in korean.items():
        if HANGUL.search(text) and key != "commands.language":
            assert HAN.search(chinese[key]), key
            assert not HANGUL.search(chinese[key]), key
    words = {k: re.sub(r"\{\w+\}", "", v) for k, v in english.items()}
    copied = {k for k, v in chinese.items() if v == english[k] and re.search("[a-z]{3}", words[k])}
    assert copied == set()


@pytest.mark.parametrize(
    ("stored", "telegram", "expected"),
    [
        ("en", "ko", "en"),
        (None, "zh-hans", "zh"),
        (None, "zh-CN", "zh"),
        (None, "zh_TW", "zh"),
        (None, "en-GB", "en"),
        (None, "fr", "ko"),
        (None, None, "ko"),
        ("xx", "zh", "zh"),
    ],
)
def test_pick_language(stored: str | None, telegram: str | None, expected: str) -> None:
    assert pick_language(stored, telegram, "ko") == expected


def test_dates_and_times_in_each_locale() -> None:
    moment = datetime(2026, 11, 23, 6, 5, tzinfo=UTC)  # 15:05 in Seoul
    # CLDR puts a narrow no-break space (U+202F) before AM/PM.
    same_day, next_day = date(2026, 11, 23), date(2026, 11, 22)
    pm = "\u202fPM"
    expected = {
        "ko": ("2026. 11. 23.", "2026. 11. 23. 오후 3:05", "오후 3:05", "11월 23일 오후 3:05"),
        "en": ("Nov 23, 2026", f"Nov 23, 2026, 3:05{pm}", f"3:05{pm}", f"Nov 23, 3:05{pm}"),
        "zh": ("2026年11月23日", "2026年11月23日 15:05", "15:05", "11月23日 15:05"),
    }
    for language, (day, full, time_only, this_year) in expected.items():
        t = Translator(language)
        assert t.day(date(2026, 11, 23)) == day
        assert t.moment(moment, SEOUL) == full
        assert t.moment(moment, SEOUL, same_day) == time_only
        assert t.moment(moment, SEOUL, next_day) == this_year
        assert t("summary.header", day=date(2026, 11, 23)).count(day) == 1
    assert Translator("en").moment(moment, ZoneInfo("UTC"), same_day) == "6:05\u202fAM"
    assert [language_name(lang) for lang in SUPPORTED_LANGUAGES] == ["한국어", "English", "中文"]


def test_durations_in_each_locale_to_two_units() -> None:
    spans = [timedelta(seconds=0), timedelta(minutes=1), timedelta(hours=1, minutes=30, seconds=9)]
    spans.append(timedelta(days=3, hours=2, minutes=5))
    expected = {
        "ko": ["0초", "1분", "1시간 30분", "3일 2시간"],
        "en": ["0 sec", "1 min", "1 hr 30 min", "3 days 2 hr"],
        "zh": ["0秒", "1分钟", "1小时30分钟", "3天2小时"],
    }
    for language, words in expected.items():
        t = Translator(language)
        assert [t.duration(span) for span in spans] == words
        late = t("sla.reporter_reminder", number=7, stage="accept", late=spans[2], spare="")
        assert words[2] in late, late


async def staff_language(app: App, telegram_id: int) -> str | None:
    async with app.sessionmaker() as session:
        return await session.scalar(select(Staff.language).where(Staff.telegram_id == telegram_id))


async def test_a_chinese_phone_gets_chinese(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(7301, "王护士", language_code="zh-hans")
    await nurse.send_command("start")
    await nurse.expect("王护士，您好！这里是医院信息科报修机器人。")
    await nurse.press("내과 병동", await nurse.expect("请选择您所在的科室（第 1/1 页）"))
    await nurse.expect("所在科室：내과 병동")
    await nurse.send_text("护士站打印机卡纸")
    ack = await nurse.expect("已受理：#1")
    assert "紧急程度：普通" in ack.text and "等待分派（暂无值班工程师）" in ack.text
    assert {"🔴 紧急", "✖️ 取消报修"} <= set(ack.button_texts)
    assert await staff_language(desk, 7301) == "zh"
    menus = {
        call.params.get("language_code"): {
            c["command"]: c["description"] for c in call.params["commands"]
        }
        for call in tg.calls_to("setMyCommands")
    }
    assert set(menus) == {None, "ko", "en", "zh"}
    assert menus["zh"]["language"] == "切换语言（한국어/English/中文）"
    assert menus[None] == menus["ko"]


async def test_language_switches_a_korean_user_to_english(desk: App, tg: FakeTelegram) -> None:
    nurse = tg.user(5001)  # imported as Korean
    await nurse.send_command("language")
    menu = await nurse.expect("사용할 언어를 선택해 주세요.")
    assert menu.button_texts == ["한국어", "English", "中文"]
    await nurse.press("English", menu)
    await nurse.expect_answer()
    await nurse.expect("From now on I answer in English.")
    await nurse.send_command("my")
    await nurse.expect("You have no open reports.")
    await nurse.send_text("The ward printer jams")
    await nurse.expect("Reported: #1")
    assert await staff_language(desk, 5001) == "en"


async def test_language_registers_a_stranger_and_dates_follow(desk: App, tg: FakeTelegram) -> None:
    """A stranger may pick a language first (and is registered in it); a supervisor's summary
    and the dashboard's page follow the language picked."""
    visitor = tg.user(7302, "Sam", language_code="en")
    await visitor.send_command("language")
    await visitor.press("中文", await visitor.expect("Please choose your language."))
    await visitor.expect("以后将用中文为您服务。")
    await visitor.expect("请选择您所在的科室")
    assert await staff_language(desk, 7302) == "zh"

    boss = tg.user(9100)
    await boss.send_command("language")
    await boss.press("中文", await boss.expect("사용할 언어를 선택해 주세요."))
    await boss.expect("以后将用中文为您服务。")
    await boss.send_command("summary", "2026-11-20")
    await boss.expect("📊 2026年11月20日 报修统计")
    await boss.expect(predicate=lambda m: m.method == "sendPhoto")  # the chart, in Chinese
    link = await dashboard_link(tg)
    token = parse_qs(urlsplit(link).query)["t"][0]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{desk.web_url}/dashboard", params={"t": token}) as response:
            page = await response.text()
        assert '<html lang="zh-Hans-CN" data-time-zone="Asia/Seoul">' in page
        assert "<title>信息科报修看板</title>" in page and '"updated": "更新于"' in page
        async with http.get(f"{desk.web_url}/assets/PC-0001", params={"t": token}) as response:
            card = await response.text()
        assert "<th>购置日期</th><td>2022年3月1日</td>" in card
