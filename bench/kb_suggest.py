"""Knowledge-base suggestions and search over 50,000 articles, on SQLite and PostgreSQL.

    python bench/kb_suggest.py [--articles 50000] [--queries 200] [--pg URL]

Seeds a temporary SQLite file, and with --pg (or TEST_DATABASE_URL) a throwaway database on
that PostgreSQL server (created, then dropped), with generated Korean and English write-ups
over 40 device models of 8 types, then times `suggest`, `search` and `self_help` for ward-style
descriptions (the device's model known for 70%, its type for 85%), each call in its own session
as a bot update would be, after 20 warm-up calls. PostgreSQL gets the VACUUM ANALYZE that
autovacuum would run after such a bulk load; SQLite gets nothing, as in production.

The generated text repeats a small vocabulary, so nearly every word is in thousands of articles:
harder on retrieval than a real knowledge base, where most words are rare.
"""

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from bot.clock import SystemClock
from bot.db import create_engine, create_sessionmaker, throwaway_database
from bot.knowledge.terms import terms
from bot.migrate import upgrade
from bot.models import KbArticle, KbTerm
from bot.services.knowledge import KnowledgeService

# type: models; symptoms as engineers write them up; how wards describe them; fixes
CATALOGUE_TEXT = {
    "printer": (
        "HP LaserJet M404 | HP LaserJet M428 | Canon LBP6030 | Samsung SL-M2030 | Brother HL-L2350",
        "프린터 용지 걸림 | 인쇄 안 됨 | 출력물 흐림 | 토너 부족 경고 | 인쇄물에 세로줄 |"
        " 드럼 수명 경고 | 급지 불량 | 오프라인 표시 | 양면 인쇄 안 됨 | Paper jam in tray 2 |"
        " Printer shows offline | Faded printouts",
        "프린터가 종이가 걸렸어요 | 프린터가 인쇄가 안 돼요 | 출력이 너무 흐려요 |"
        " 인쇄하면 줄이 생겨요 | 프린터가 오프라인이래요 | paper jammed again",
        "걸린 용지 제거 후 픽업 롤러 청소 | 토너 카트리지 교체 | 드럼 유닛 교체 |"
        " 프린터 드라이버 재설치 | IP 주소 재설정 | 퓨저 유닛 교체 | Cleaned the pickup roller |"
        " Replaced toner cartridge",
    ),
    "monitor": (
        "Dell P2419H | Dell P2422H | LG 24MK430H | Samsung S24R350 | HP E24 G4",
        "모니터 화면 안 나옴 | 화면 깜빡임 | 화면에 줄 생김 | 해상도 이상 |"
        " 전원 램프만 깜빡임 | 색상 이상 | No signal on monitor | Screen flickers",
        "모니터가 안 켜져요 | 화면이 깜빡거려요 | 모니터에 신호 없음이라고 떠요 |"
        " 화면 색이 이상해요 | monitor is black",
        "DP 케이블 교체 | HDMI 케이블 재연결 | 그래픽 드라이버 업데이트 |"
        " 모니터 전원 어댑터 교체 | 해상도 1920x1080으로 재설정 | Replaced the DP cable",
    ),
    "pc": (
        "Dell OptiPlex 7090 | Dell OptiPlex 3080 | HP ProDesk 400 | Lenovo M70q | Samsung DM500",
        "부팅 안 됨 | PC 느림 | 블루스크린 발생 | EMR 접속 불가 | 팬 소음 심함 | 전원 안 켜짐 |"
        " 윈도우 업데이트 후 멈춤 | PC won't boot | Blue screen on login",
        "컴퓨터가 안 켜져요 | PC가 너무 느려요 | 파란 화면이 떠요 | EMR이 안 열려요 |"
        " 컴퓨터에서 소리가 나요 | pc is very slow",
        "메모리 재장착 | SSD 교체 | 윈도우 복구 | EMR 클라이언트 재설치 | CPU 팬 청소 |"
        " 파워 서플라이 교체 | Reseated the RAM | Reinstalled EMR client",
    ),
    "barcode_scanner": (
        "Zebra DS2208 | Zebra DS4608 | Honeywell 1950g | Honeywell 1472g | Datalogic QD2430",
        "바코드 스캐너 인식 불량 | 스캔 안 됨 | 무선 스캐너 연결 끊김 | 스캐너 충전 안 됨 |"
        " 환자 팔찌 바코드 인식 불량 | Scanner not reading wristbands",
        "바코드 스캐너가 인식을 못 해요 | 스캐너가 안 읽혀요 | 팔찌 바코드가 안 찍혀요 |"
        " 스캐너 충전이 안 돼요 | scanner won't scan",
        "스캐너 초기화 바코드 스캔 | USB 케이블 교체 | 크래들 재페어링 | 배터리 교체 |"
        " 스캐너 설정 바코드로 심볼로지 활성화 | Re-paired the cradle",
    ),
    "label_printer": (
        "Zebra ZD421 | Zebra ZD230 | Zebra GK420d | Brother QL-820NWB | Godex G500",
        "라벨 출력 위치 어긋남 | 라벨 인쇄 흐림 | 라벨 용지 인식 안 됨 | 리본 걸림 |"
        " 검체 라벨 안 나옴 | Labels print off-centre",
        "라벨이 삐뚤게 나와요 | 검체 라벨이 안 나와요 | 라벨 프린터에 빨간불이 들어와요 |"
        " label printer blinking red",
        "용지 캘리브레이션 실행 | 프린트 헤드 청소 | 리본 교체 | 라벨 드라이버 재설치 |"
        " Ran media calibration",
    ),
    "phone": (
        "Cisco 7821 | Cisco 8841 | Avaya 9608 | Polycom VVX 250 | LG-Ericsson IP8830",
        "전화 발신 안 됨 | 수화기 잡음 | 내선 연결 안 됨 | 전화기 화면 꺼짐 | 벨 소리 안 남 |"
        " No dial tone",
        "전화가 안 걸려요 | 전화기에서 잡음이 나요 | 전화기 화면이 안 나와요 |"
        " phone has no dial tone",
        "PoE 포트 변경 | 수화기 코드 교체 | 전화기 재등록 | 펌웨어 업데이트 | Moved to a PoE port",
    ),
    "network": (
        "Cisco Catalyst 2960 | Cisco Aironet 2802 | Aruba AP-515 | HPE 2530 | Juniper EX2300",
        "무선 인터넷 끊김 | 네트워크 연결 안 됨 | 와이파이 느림 | 랜 포트 불량 | IP 충돌 |"
        " Wi-Fi drops on ward",
        "인터넷이 안 돼요 | 와이파이가 자꾸 끊겨요 | 랜선 꽂아도 연결이 안 돼요 |"
        " wifi keeps dropping",
        "AP 재부팅 | 스위치 포트 교체 | 랜 케이블 재제작 | DHCP 예약 수정 | AP 채널 변경 |"
        " Replaced the patch cable",
    ),
    "ups": (
        "APC Smart-UPS 1500 | APC Back-UPS 700 | Eaton 5SC 1000 | CyberPower OR1500 | Vertiv GXT5",
        "UPS 경고음 | 배터리 교체 경고 | UPS 전원 안 켜짐 | 과부하 표시 | UPS beeping",
        "UPS에서 삐 소리가 계속 나요 | 배터리 교체하라고 떠요 | ups keeps beeping",
        "UPS 배터리 교체 | 부하 분산 | UPS 자가 진단 실행 | Replaced the UPS battery",
    ),
}
CATALOGUE = {
    kind: tuple([item.strip() for item in column.split("|")] for column in columns)
    for kind, columns in CATALOGUE_TEXT.items()
}
WARDS = [
    "내과 병동",
    "외과 병동",
    "응급실",
    "중환자실",
    "원무과",
    "영상의학과",
    "진단검사의학과",
    "소아 병동",
    "수술실",
    "약제부",
]
DETAILS = [
    "",
    "",
    " 오전부터",
    " 간헐적으로",
    " 재부팅해도 동일",
    " 어제부터 계속",
    " 두 번째 발생",
    " since this morning",
    " after the update",
]


def write_up(rng: random.Random) -> dict[str, object]:
    """One generated article, as row values."""
    asset_type = rng.choice(list(CATALOGUE))
    models, symptoms, _, actions = CATALOGUE[asset_type]
    symptom = rng.choice(symptoms)
    code = f" (에러 코드 E{rng.randint(1, 999):03d})" if rng.random() < 0.3 else ""
    ward = rng.choice(WARDS)
    fix = " 후 ".join(rng.sample(actions, rng.choice([1, 1, 2])))
    row = {
        "title": f"{symptom}{code}",
        "symptom": f"{ward} {rng.randint(1, 12)}층 {symptom}{rng.choice(DETAILS)}{code}",
        "action": f"{fix}, 정상 작동 확인" if rng.random() < 0.7 else fix,
        "model": rng.choice(models) if rng.random() < 0.9 else None,
        "asset_type": asset_type,
        "self_service": rng.random() < 0.15,
        "self_solved": rng.randint(0, 20) if rng.random() < 0.15 else 0,
    }
    return row


async def seed(url: str, total: int) -> int:
    """Bulk insert articles and their terms, indexed by the same terms() as the service."""
    engine = create_engine(url)
    rng = random.Random(11)
    now = datetime.now(UTC)
    articles, postings = [], []
    for article_id in range(1, total + 1):
        row = write_up(rng)
        row |= {"id": article_id, "created_at": now - timedelta(minutes=article_id), "suggested": 0}
        articles.append(row)
        index = terms(str(row["title"])) | terms(str(row["symptom"])) | terms(str(row["action"]))
        postings.extend({"term": term, "article_id": article_id} for term in index)
    async with engine.begin() as conn:
        for start in range(0, len(articles), 5_000):
            await conn.execute(insert(KbArticle), articles[start : start + 5_000])
        for start in range(0, len(postings), 50_000):
            await conn.execute(insert(KbTerm), postings[start : start + 50_000])
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE kb_articles"))
            await conn.execute(text("VACUUM ANALYZE kb_terms"))
    await engine.dispose()
    return len(postings)


def queries(count: int) -> list[tuple[str, str | None, str | None]]:
    """Job descriptions as wards type them, with the device's model and type when known."""
    rng = random.Random(23)
    found = []
    for _ in range(count):
        asset_type = rng.choice(list(CATALOGUE))
        models, _, spoken, _ = CATALOGUE[asset_type]
        known = rng.random()
        found.append(
            (
                f"{rng.choice(WARDS)} {rng.choice(spoken)}",
                rng.choice(models) if known < 0.7 else None,
                asset_type if known < 0.85 else None,
            )
        )
    return found


async def timed(
    url: str, calls: list[Callable[[KnowledgeService], Awaitable[int]]]
) -> tuple[list[float], int]:
    """Milliseconds per call (after a warm-up), each in its own session; and results found."""
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    clock = SystemClock()
    millis, found = [], 0

    async def one(call: Callable[[KnowledgeService], Awaitable[int]]) -> tuple[float, int]:
        async with sessionmaker() as session:
            started = time.perf_counter()
            results = await call(KnowledgeService(session, clock))
            return (time.perf_counter() - started) * 1000, results

    for call in calls[:20]:
        await one(call)
    for call in calls:
        took, results = await one(call)
        millis.append(took)
        found += results
    await engine.dispose()
    return millis, found


def figures(label: str, millis: list[float], found: int) -> str:
    p95 = statistics.quantiles(millis, n=20)[-1]
    return (
        f"  {label:12s} {statistics.median(millis):7.1f} {p95:7.1f} {max(millis):7.1f}"
        f"   {found / len(millis):7.1f}"
    )


async def measure(url: str, count: int) -> None:
    asked = queries(count)
    suggest = [
        lambda kb, q=q, m=m, t=t: _count(kb.suggest(text=q, model=m, asset_type=t))
        for q, m, t in asked
    ]
    search = [lambda kb, q=q: _count(kb.search(q)) for q, _, _ in asked]
    self_help = [
        lambda kb, m=m, t=t: _count(kb.self_help(model=m, asset_type=t)) for _, m, t in asked
    ]
    print(f"  {'ms per call':12s} {'median':>7s} {'p95':>7s} {'max':>7s}   results")
    for label, calls in (("suggest", suggest), ("search", search), ("self_help", self_help)):
        print(figures(label, *await timed(url, calls)))


async def _count(results: Awaitable[list[object]]) -> int:
    return len(await results)


async def article_count(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        total = await conn.scalar(select(func.count()).select_from(KbArticle))
    await engine.dispose()
    return total or 0


def run(url: str, label: str, articles: int, count: int) -> None:
    upgrade(url)
    started = time.perf_counter()
    postings = asyncio.run(seed(url, articles))
    took = time.perf_counter() - started
    stored = asyncio.run(article_count(url))
    print(
        f"{label}: seeded {stored} articles, {postings} terms "
        f"({postings / stored:.0f} per article) in {took:.1f} s; {count} queries"
    )
    asyncio.run(measure(url, count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args()
    sqlite = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'kb.db'}"
    run(sqlite, "SQLite", args.articles, args.queries)
    if args.pg:
        with throwaway_database(args.pg, "kb_bench") as url:
            run(url, "PostgreSQL", args.articles, args.queries)


if __name__ == "__main__":
    main()
