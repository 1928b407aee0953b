"""`repairbot demo`: the real bot on the built-in emulator, played through the demo page's API
and, in headless Chromium, through the page itself."""

import asyncio
import io
import json
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped, unused-ignore]
from sqlalchemy import func, select

from bot.config import ConfigError, load_settings
from bot.db import create_engine, create_sessionmaker
from bot.demo.hospital import ENGINEER, NURSE, SUPERVISOR, Person
from bot.demo.run import Demo, running_demo
from bot.i18n import Translator
from bot.labels import LabelData, write_labels
from bot.migrate import upgrade_async
from bot.models import Asset, KbArticle, Ticket
from tests.chromium import chromium_page
from tests.conftest import FakeClock, seed_hospital

State = dict[str, Any]
T = Translator("ko")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    settings = load_settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'demo.db'}", summary_time=None
    )
    async with running_demo(settings, port=0) as running:
        yield running


class Player:
    """The demo page's side of the API, for tests without a browser."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url, self.revision = http, url, -1

    async def post(self, user: int, action: str, **kwargs: Any) -> aiohttp.ClientResponse:
        async with self.http.post(f"{self.url}/demo/api/{user}/{action}", **kwargs) as response:
            await response.read()
            return response

    async def until(self, check: Callable[[State], Any], timeout: float = 20.0) -> Any:
        """Long-poll the state until `check` finds what it looks for; return that."""
        async with asyncio.timeout(timeout):
            while True:
                params = {"after": str(self.revision)}
                async with self.http.get(f"{self.url}/demo/api/state", params=params) as r:
                    state = await r.json()
                self.revision = state["revision"]
                if found := check(state):
                    return found


def message(user: int, contains: str) -> Callable[[State], dict[str, Any] | None]:
    def check(state: State) -> dict[str, Any] | None:
        found = [m for m in state["chats"][str(user)]["messages"] if contains in m["text"]]
        return found[-1] if found else None

    return check


def label_png(folder: Path) -> Path:
    """The printed label of the nurse's PC, as `repairbot labels` makes it."""
    label = folder / "label.png"
    write_labels([LabelData("PC-0001", "Dell", "간호사실", "내과 병동")], "demo_bot", label)
    return label


async def test_the_sample_hospital_has_a_month_of_history(demo: Demo) -> None:
    async with demo.app.sessionmaker() as session:
        assets = await session.scalar(select(func.count(Asset.id)))
        tickets = (await session.scalars(select(Ticket))).all()
        articles = await session.scalar(select(func.count(KbArticle.id)))
    assert assets is not None and 250 <= assets <= 400
    assert len(tickets) > 150 and articles
    days = {t.created_at.date() for t in tickets}
    assert len(days) >= 28
    assert all(
        t.assignee and t.assignee.telegram_id != ENGINEER.telegram_id
        for t in tickets
        if t.status.value != "closed"
    )


async def test_a_given_database_gets_the_sample_once_and_a_real_one_is_refused(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        _env_file=None, database_url=f"sqlite:///{tmp_path / 'demo.db'}", summary_time=None
    )
    counts = []
    for _ in range(2):
        async with running_demo(settings, port=0) as again, again.app.sessionmaker() as session:
            counts.append(await session.scalar(select(func.count(Ticket.id))))
    assert counts[0] == counts[1]

    real = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'real.db'}")
    await upgrade_async(real.database_url)
    engine = create_engine(real.database_url)
    async with create_sessionmaker(engine)() as session:
        await seed_hospital(session, FakeClock())
    await engine.dispose()
    with pytest.raises(ConfigError, match=r"^DATABASE_URL is invalid: the demo only uses"):
        async with running_demo(real, port=0):
            pass


async def test_the_api_plays_a_report_a_button_a_photo_and_a_voice_note(
    demo: Demo, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as http:
        play = Player(http, demo.url)
        assert (await play.post(NURSE.telegram_id, "text", json={"text": "모니터가 깜박거려요"})).ok
        ack = await play.until(message(NURSE.telegram_id, "접수되었습니다: #"))
        number = ack["text"].split("#")[1].split()[0]
        assert ack["buttons"] and not ack["mine"]
        job = await play.until(message(ENGINEER.telegram_id, f"새 작업 #{number}"))
        accept = next(b for row in job["buttons"] for b in row if "수락" in b["text"])
        forged = await play.post(
            ENGINEER.telegram_id, "press", json={"message_id": job["id"], "data": "t1:x"}
        )
        assert forged.status == 400
        pressed = await play.post(
            ENGINEER.telegram_id, "press", json={"message_id": job["id"], "data": accept["data"]}
        )
        assert pressed.ok
        await play.until(
            lambda s: "수락했습니다" in "".join(s["chats"][str(ENGINEER.telegram_id)]["toasts"])
        )
        await play.until(message(NURSE.telegram_id, f"#{number}"))

        label = label_png(tmp_path)
        form = aiohttp.FormData()
        form.add_field("photo", label.read_bytes(), filename="label.png", content_type="image/png")
        assert (await play.post(NURSE.telegram_id, "photo", data=form)).ok
        photo = await play.until(
            lambda s: next(
                (m for m in s["chats"][str(NURSE.telegram_id)]["messages"] if m.get("photo")), None
            )
        )
        async with http.get(f"{demo.url}/demo/files/{photo['photo']}") as response:
            assert response.content_type == "image/png"
            assert await response.read() == label.read_bytes()
        await play.until(message(NURSE.telegram_id, "PC-0001"))

        tone = io.BytesIO()
        samples = 0.2 * np.sin(np.arange(16000) * 0.05).astype("float32")
        soundfile.write(tone, samples, 16000, format="WAV", subtype="PCM_16")
        sent = await play.post(NURSE.telegram_id, "voice", data=tone.getvalue())
        assert sent.ok
        voice = await play.until(
            lambda s: next(
                (m for m in s["chats"][str(NURSE.telegram_id)]["messages"] if m.get("voice")), None
            )
        )
        assert demo.telegram.files[voice["voice"]].startswith(b"OggS")
        # The real voice path takes it as audio: a tone has no words, or it hears some.
        nothing = T("error.nothing_heard")
        heard = T("voice.heard", text="", department="", device="").split("«")[0]

        def answered(state: State) -> bool:
            return any(
                m["id"] > voice["id"] and (m["text"] == nothing or m["text"].startswith(heard))
                for m in state["chats"][str(NURSE.telegram_id)]["messages"]
            )

        await play.until(answered, timeout=60)  # the speech model's first load
        bad = await play.post(NURSE.telegram_id, "voice", data=b"not audio")
        assert bad.status == 400
        assert (await play.post(4242, "text", json={"text": "hi"})).status == 404


async def test_the_page_passes_the_dashboard_through(demo: Demo) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{demo.url}/") as response:
            page = await response.text()
        config = json.loads(page.split("window.DEMO = ")[1].split(";</script>")[0])
        assert [p["id"] for p in config["people"]] == [
            NURSE.telegram_id,
            ENGINEER.telegram_id,
            SUPERVISOR.telegram_id,
        ]
        token = config["dashboard"].split("t=")[1]
        async with http.get(f"{demo.url}/api/dashboard", params={"t": token}) as response:
            assert response.status == 200
            data = await response.json()
        assert len(data["departments"]) == 8 and any(c["amount"] for c in data["costs"])
        assert data["risk"]["tickets"]
        async with http.get(f"{demo.url}/api/dashboard", params={"t": "forged"}) as response:
            assert response.status == 403
        async with http.get(f"{demo.url}/static/dashboard.js") as response:
            assert response.status == 200


def phone(person: Person) -> str:
    return f"document.querySelector('.phone[data-user=\"{person.telegram_id}\"]')"


def bot_said(person: Person, text: str) -> str:
    """JavaScript: the text of the latest bot message on this phone containing `text`."""
    return (
        f"[...{phone(person)}.querySelectorAll('li.bot')].map(li => li.textContent)"
        f".findLast(t => t.includes('{text}'))"
    )


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
async def test_in_chromium_a_nurse_reports_an_engineer_accepts_and_the_dashboard_shows_it(
    demo: Demo, tmp_path: Path
) -> None:
    nurse, engineer = phone(NURSE), phone(ENGINEER)
    async with chromium_page(f"{demo.url}/") as page:
        await page.wait_for("document.querySelectorAll('.phone').length === 3")
        await page.evaluate(
            f"{nurse}.querySelector('.text').value = '프린터 토너 부족';"
            f"{nurse}.querySelector('.send').click(); true"
        )
        ack = await page.wait_for(bot_said(NURSE, "접수되었습니다: #"))
        number = ack.split("#")[1].split()[0]
        await page.wait_for(bot_said(ENGINEER, f"새 작업 #{number}"))
        await page.evaluate(
            f"[...{engineer}.querySelectorAll('.keyboard button')]"
            ".find(b => b.textContent.includes('수락')).click(); true"
        )
        await page.wait_for(f"{engineer}.querySelector('.toast').textContent.includes('수락')")
        accepted = T.section("dashboard")["status_accepted"]
        row = await page.wait_for(
            "[...document.getElementById('dashboard').contentDocument"
            ".querySelectorAll('#engineers tr')].map(tr => tr.textContent)"
            f".find(t => t.includes('{ENGINEER.name}') && t.includes('#{number}')"
            f" && t.includes('{accepted}'))",
            timeout=30,
        )
        assert "내과 병동" in row

        picker = f'.phone[data-user="{NURSE.telegram_id}"] input[type=file]'
        await page.choose_files(picker, label_png(tmp_path))
        await page.wait_for(f"!!{nurse}.querySelector('li.mine img')")
        await page.wait_for(bot_said(NURSE, "PC-0001"))
        # Chromium's fake microphone plays a beep: record a second of it, as a person would.
        await page.evaluate(f"{nurse}.querySelector('.record').click(); true")
        await asyncio.sleep(1.5)
        await page.evaluate(f"{nurse}.querySelector('.record').click(); true")
        await page.wait_for(f"!!{nurse}.querySelector('li.mine audio')")
