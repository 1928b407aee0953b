"""The web dashboard: signed links, the JSON checked against the data, asset pages, the CSV
export, refusals, and the page itself rendered by headless Chromium."""

import asyncio
import csv
import io
import re
import shutil
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.app import App
from bot.web.links import BadLink, sign, verify
from tests.fake_telegram import FakeTelegram
from tests.steps import file_repair_report
from tests.test_e2e_toolkit import accepted_job, on_duty, report_device

SECRET = b"k" * 32
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_links_verify_until_they_expire_and_refuse_tampering() -> None:
    token = sign(SECRET, 42, NOW, timedelta(hours=1))
    assert verify(SECRET, token, NOW + timedelta(minutes=59)).staff_id == 42
    body, mac = token.split(".")
    forged = sign(SECRET, 43, NOW, timedelta(hours=1)).split(".")[0] + "." + mac
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), forged, "", "x.y", body):
        with pytest.raises(BadLink):
            verify(SECRET, bad, NOW)
    with pytest.raises(BadLink):
        verify(SECRET, token, NOW + timedelta(hours=1))
    with pytest.raises(BadLink):
        verify(b"other" * 8, token, NOW)


async def dashboard_link(tg: FakeTelegram, user_id: int = 9100) -> str:
    boss = tg.user(user_id)
    await boss.send_command("dashboard")
    message = await boss.expect("/dashboard?t=")
    return next(word for word in message.text.split() if "/dashboard?t=" in word)


async def busy_day(desk: App, tg: FakeTelegram) -> None:
    """Two reports from 내과 병동, one resolved with a 35,000 won report and confirmed."""
    await on_duty(tg, 9001)
    kim, nurse = tg.user(9001), tg.user(5001)
    await report_device(nurse, "PC-0001", "부팅이 안 돼요")
    await nurse.send_text("프린터 토너 부족")
    await nurse.expect("접수되었습니다: #2")
    job = await accepted_job(kim, "새 작업 #1")
    await file_repair_report(kim, job, "메모리 재장착", cost="35000")
    await nurse.press("해결 확인", await nurse.expect("#1 처리 완료"))
    await nurse.expect("#1 종료되었습니다")


async def test_dashboard_json_matches_the_data_and_refuses_bad_links(
    desk: App, tg: FakeTelegram
) -> None:
    await busy_day(desk, tg)
    link = await dashboard_link(tg)
    assert link.startswith(desk.web_url)
    token = parse_qs(urlsplit(link).query)["t"][0]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{desk.web_url}/api/dashboard", params={"t": token}) as response:
            assert response.status == 200
            data = await response.json()
        assert data["today"] == {"reports": 2, "opened": 2, "closed": 1, "open": 1, "overdue": 0}
        assert data["times"]["accept_minutes"] is not None
        kim = next(e for e in data["engineers"] if e["name"] == "김엔지")
        assert kim["on_duty"] and kim["queue"] == 1 and kim["current"] == 2
        assert data["departments"] == [{"name": "내과 병동", "count": 2}]
        assert data["models"][0]["model"] == "Dell OptiPlex 7090"
        assert data["models"][0]["tickets_30"] == 1 and data["models"][0]["rate_90"] == 1.0
        assert data["costs"][-1] == {
            "month": datetime.now(desk.settings.tz).strftime("%Y-%m"),
            "amount": 35000.0,
        }
        assert data["spares"] == {"pool": [], "loans": []}

        expired = sign(desk.settings.link_secret(), 1, datetime.now(UTC), timedelta(seconds=-1))
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        async with desk.sessionmaker() as session:
            from sqlalchemy import select

            from bot.models import Staff

            nurse_id = await session.scalar(select(Staff.id).where(Staff.telegram_id == 5001))
        nurse_link = sign(
            desk.settings.link_secret(), nurse_id or 0, datetime.now(UTC), timedelta(1)
        )
        for bad in ("", expired, forged, nurse_link):
            for path in ("/dashboard", "/api/dashboard", "/assets", "/export.csv"):
                async with http.get(f"{desk.web_url}{path}", params={"t": bad}) as response:
                    assert response.status == 403, (path, bad)
    await tg.user(5001).send_command("dashboard")
    await tg.user(5001).expect("알 수 없는 명령입니다")
    await tg.user(9001).send_command("dashboard")
    await tg.user(9001).expect("알 수 없는 명령입니다")


async def test_asset_pages_and_csv_export(desk: App, tg: FakeTelegram) -> None:
    await busy_day(desk, tg)
    token = parse_qs(urlsplit(await dashboard_link(tg)).query)["t"][0]
    today = datetime.now(desk.settings.tz).date().isoformat()
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{desk.web_url}/assets", params={"t": token, "q": "pc-0001"}
        ) as response:
            assert response.status == 200 and response.url.path == "/assets/PC-0001"
            page = await response.text()
        assert '<h1 id="asset-code">PC-0001</h1>' in page
        assert "메모리 재장착" in page and "35,000원" in page and "사용 중" in page
        async with http.get(f"{desk.web_url}/assets", params={"t": token, "q": "LaserJet"}) as r:
            assert "PR-0001" in await r.text()
        params = {"t": token, "from": today, "to": today}
        async with http.get(f"{desk.web_url}/export.csv", params=params) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/csv")
            raw = await response.read()
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert [(r["number"], r["status"], r["repair_cost"]) for r in rows] == [
            ("1", "closed", "35000.00"),
            ("2", "assigned", ""),
        ]
        assert rows[0]["asset"] == "PC-0001" and rows[0]["engineer"] == "김엔지"
        for bad in ({"from": today, "to": "2000-01-01"}, {"from": "yesterday", "to": today}):
            async with http.get(f"{desk.web_url}/export.csv", params={"t": token, **bad}) as r:
                assert r.status == 400


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
async def test_headless_chromium_shows_the_numbers(desk: App, tg: FakeTelegram) -> None:
    await busy_day(desk, tg)
    link = await dashboard_link(tg)
    process = await asyncio.create_subprocess_exec(
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--virtual-time-budget=10000",
        "--dump-dom",
        link,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    dom, _ = await asyncio.wait_for(process.communicate(), 60)
    html = dom.decode()
    assert '<div class="tile" id="tile-reports"><div class="value">2</div>' in html
    assert '<div class="tile" id="tile-closed"><div class="value">1</div>' in html
    assert "김엔지" in html and "내과 병동" in html and "Dell OptiPlex 7090" in html
    assert "35,000원" in html  # the cost chart's bar label


async def test_reporters_see_an_eta_and_supervisors_the_risk_and_what_ifs(
    desk: App, tg: FakeTelegram
) -> None:
    await on_duty(tg, 9001)
    nurse, boss = tg.user(5001), tg.user(9100)
    for n, text in enumerate(("모니터 1 고장", "모니터 2 고장", "모니터 3 고장"), start=1):
        await nurse.send_text(text)
        ack = await nurse.expect(f"접수되었습니다: #{n}")
        clock = r"(\d+월 \d+일 )?오[전후] \d{1,2}:\d\d"  # in Korean's own format
        assert re.search(f"예상 완료: {clock}–{clock}", ack.text), ack.text
    await nurse.send_command("my")
    assert (await nurse.expect("내 접수 현황")).text.count("예상 완료:") == 3
    token = parse_qs(urlsplit(await dashboard_link(tg)).query)["t"][0]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{desk.web_url}/api/dashboard", params={"t": token}) as response,
    ):
        risk = (await response.json())["risk"]
    assert [row["number"] for row in sorted(risk["tickets"], key=lambda r: r["number"])] == [
        1,
        2,
        3,
    ]
    for row in risk["tickets"]:
        assert 0 <= row["otp"] <= 1 and row["eta_p50"] <= row["eta_p90"]
        assert row["colour"] == (
            "red" if row["otp"] < 0.5 else "yellow" if row["otp"] < 0.8 else "grey"
        )
    assert risk["delay_possibility"] == pytest.approx(
        sum(1 - row["otp"] for row in risk["tickets"]) / 3, abs=0.01
    )
    await boss.send_command("whatif")
    usage = await boss.expect("/whatif add")
    assert "구역: A, B, C" in usage.text
    await boss.send_command("whatif", "add A")
    result = await boss.expect("🔮 A 구역에 엔지니어 1명 추가")
    before, after = (int(x) for x in re.findall(r"지금 (\d+)% → (\d+)%", result.text)[0])
    assert after <= before
    await boss.send_command("whatif", "move 김엔지 B")
    await boss.expect("🔮 김엔지을(를) B 구역으로 이동")
    await boss.send_command("whatif", "move 아무개 B")
    await boss.expect("'아무개' 엔지니어를 찾을 수 없습니다")
