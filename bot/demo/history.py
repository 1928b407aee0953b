"""A month of repair history for the demo, drawn from a seeded RNG so every demo starts alike:
closed tickets with their events and repair reports (for the dashboard's charts and the risk
ETAs' service times), two jobs in progress, and knowledge-base articles."""

import math
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.demo.hospital import COLLEAGUES, ENGINEER
from bot.domain.enums import AssetStatus, Role, TicketStatus, Urgency
from bot.models import Asset, RepairReport, Staff, Ticket, TicketEvent
from bot.services.knowledge import KnowledgeService

DAYS = 30
SEED = 8


@dataclass(frozen=True)
class Fault:
    description: str
    cause: str
    action: str
    parts: str
    cost: int
    minutes: int
    """Typical hands-on time; actual times are lognormal around it."""


FAULTS: dict[str, tuple[Fault, ...]] = {
    "pc": (
        Fault("PC 부팅이 안 돼요", "hardware", "메모리 재장착", "", 0, 40),
        Fault("EMR 프로그램이 자꾸 멈춰요", "software", "EMR 클라이언트 재설치", "", 0, 50),
        Fault("인터넷이 안 돼요", "network", "랜 케이블 교체", "랜 케이블", 5000, 25),
        Fault("PC가 너무 느려요", "hardware", "SSD 교체 후 이미지 복원", "SSD 512GB", 89000, 90),
    ),
    "모니터": (
        Fault("모니터 화면이 안 나와요", "hardware", "전원 어댑터 교체", "어댑터", 25000, 20),
        Fault("모니터가 깜박거려요", "hardware", "DP 케이블 교체", "DP 케이블", 12000, 15),
    ),
    "프린터": (
        Fault("프린터 용지 걸림", "user", "걸린 용지 제거, 급지 방법 안내", "", 0, 15),
        Fault("프린터 토너 부족", "consumable", "토너 교체", "토너", 45000, 10),
        Fault("프린터 인쇄가 안 돼요", "software", "인쇄 대기열 정리, 드라이버 재설치", "", 0, 30),
    ),
    "라벨프린터": (
        Fault("라벨이 흐리게 나와요", "consumable", "리본 교체, 헤드 청소", "리본", 18000, 20),
    ),
    "바코드스캐너": (
        Fault("바코드가 안 읽혀요", "hardware", "스캐너 케이블 교체", "USB 케이블", 9000, 15),
    ),
    "전화기": (Fault("전화 발신이 안 돼요", "network", "PoE 포트 재설정", "", 0, 20),),
}
FAILURE_WEIGHT = {"pc": 3.0, "모니터": 1.0, "프린터": 4.0, "라벨프린터": 2.0, "바코드스캐너": 1.0}
"""Printers fail most, as on every ward; the weight is per device."""
FLAKY_MODEL = "HP LaserJet M404"
ARTICLES = (
    (
        "프린터 용지 걸림",
        "프린터 용지 걸림, 급지 불량",
        "뒷면 덮개를 열고 걸린 용지를 천천히 당겨 빼세요. 용지를 가지런히 다시 넣으세요.",
        "프린터",
        True,
    ),
    (
        "프린터 인쇄 안 됨",
        "인쇄 대기열에 문서가 쌓이고 인쇄가 안 됨",
        "프린터를 껐다 켜고, PC의 인쇄 대기열에서 문서를 모두 취소한 뒤 다시 인쇄하세요.",
        "프린터",
        True,
    ),
    (
        "EMR 멈춤",
        "EMR 프로그램 멈춤, 응답 없음",
        "작업 관리자에서 EMR을 끝내고 다시 실행. 반복되면 클라이언트 재설치.",
        "pc",
        False,
    ),
    (
        "PC 부팅 불가",
        "전원은 들어오나 화면이 안 나오고 부팅 안 됨",
        "메모리 재장착, CMOS 초기화. 그래도 안 되면 메인보드 점검.",
        "pc",
        False,
    ),
    (
        "모니터 무신호",
        "모니터 화면이 안 나옴, 신호 없음",
        "케이블을 다시 꽂고 입력 소스 확인. 어댑터 LED가 꺼져 있으면 어댑터 교체.",
        "모니터",
        False,
    ),
    (
        "라벨 인쇄 흐림",
        "라벨이 흐리게 인쇄됨",
        "리본 잔량을 확인하고 헤드를 알코올 솜으로 청소.",
        "라벨프린터",
        False,
    ),
)
STEPS = ("created_at", "assigned_at", "accepted_at", "on_site_at", "resolved_at", "closed_at")
STATUS_AFTER = dict(
    zip(
        STEPS,
        (
            TicketStatus.NEW,
            TicketStatus.ASSIGNED,
            TicketStatus.ACCEPTED,
            TicketStatus.ON_SITE,
            TicketStatus.RESOLVED,
            TicketStatus.CLOSED,
        ),
        strict=True,
    )
)


@dataclass(frozen=True)
class _Crew:
    engineers: list[Staff]
    reporters: dict[int, Staff]  # by department id
    assets: list[Asset]


async def _crew(session: AsyncSession) -> _Crew:
    staff = (await session.scalars(select(Staff))).all()
    assets = (
        await session.scalars(select(Asset).where(Asset.status == AssetStatus.IN_SERVICE))
    ).all()
    colleagues = {p.telegram_id for p in COLLEAGUES}
    reporters = {
        s.department_id: s
        for s in staff
        if s.role is Role.REPORTER and s.department_id and s.telegram_id in colleagues
    }
    return _Crew([s for s in staff if s.role is Role.ENGINEER], reporters, list(assets))


class _History:
    def __init__(self, session: AsyncSession, crew: _Crew, rng: random.Random) -> None:
        self.session, self.crew, self.rng = session, crew, rng
        self.weights = [
            FAILURE_WEIGHT.get(a.type, 0.5) * (2.0 if a.model == FLAKY_MODEL else 1.0)
            for a in crew.assets
        ]

    def _after(self, moment: datetime, typical: float) -> datetime:
        return moment + timedelta(minutes=typical * math.exp(self.rng.gauss(0, 0.5)))

    def _engineer(self, asset: Asset, finished: bool) -> Staff:
        """One covering the device's zone; never the demo's engineer for a job still open, so
        their chat and queue start empty."""
        hands = [
            e for e in self.crew.engineers if finished or e.telegram_id != ENGINEER.telegram_id
        ]
        fits = [e for e in hands if asset.department.zone.name in e.zone_names]
        return self.rng.choice(fits or hands)

    async def ticket(self, created: datetime, now: datetime, stop: str = "closed_at") -> None:
        """One job from report to as far as it got by `now` (at most `stop`)."""
        rng = self.rng
        asset = rng.choices(self.crew.assets, self.weights)[0]
        fault = rng.choice(FAULTS.get(asset.type, FAULTS["pc"]))
        reporter = self.crew.reporters[asset.department_id]
        moments = [created, created]
        for typical in (12, 8, fault.minutes, 90):
            moments.append(self._after(moments[-1], typical))
        last = STEPS.index(stop)
        at = {
            step: moment if moment <= now and n <= last else None
            for n, (step, moment) in enumerate(zip(STEPS, moments, strict=True))
        }
        reached = [step for step in STEPS if at[step] is not None]
        status = STATUS_AFTER[reached[-1]]
        engineer = self._engineer(asset, status is TicketStatus.CLOSED)
        ticket = Ticket(
            helpers=[],
            reporter=reporter,
            department=asset.department,
            asset=asset,
            device_type=asset.type,
            description=fault.description,
            urgency=rng.choices(list(Urgency), [1, 3, 12, 2])[0],
            status=status,
            assignee=engineer,
            resolution=fault.action if at["resolved_at"] else None,
            updated_at=at[reached[-1]],
            **at,
        )
        self.session.add(ticket)
        await self.session.flush()
        self._events(ticket, reporter, engineer, at)
        if (resolved := at["resolved_at"]) is not None:
            self.session.add(
                RepairReport(
                    ticket_id=ticket.id,
                    author_id=engineer.id,
                    cause=fault.cause,
                    action=fault.action,
                    parts=fault.parts,
                    cost=Decimal(fault.cost),
                    minutes=max(5, round(fault.minutes / 5) * 5),
                    created_at=resolved,
                )
            )
        if status in {TicketStatus.ACCEPTED, TicketStatus.ON_SITE}:
            asset.status = AssetStatus.IN_REPAIR

    def _events(
        self, ticket: Ticket, reporter: Staff, engineer: Staff, at: dict[str, datetime | None]
    ) -> None:
        actors = (reporter, None, engineer, engineer, engineer, reporter)
        actions = ("report", "assign", "accept", "arrive", "resolve", "confirm")
        before: TicketStatus | None = None
        for step, actor, action in zip(STEPS, actors, actions, strict=True):
            if (moment := at[step]) is None:
                return
            self.session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=moment,
                    actor_id=actor.id if actor else None,
                    action=action,
                    from_status=before,
                    to_status=STATUS_AFTER[step],
                    data={},
                )
            )
            before = STATUS_AFTER[step]


async def write_history(session: AsyncSession, clock: Clock, zone: ZoneInfo) -> int:
    """Tickets over the last DAYS local days up to now; returns how many were written."""
    rng = random.Random(SEED)
    now = clock.now()
    history = _History(session, await _crew(session), rng)
    today = datetime.combine(now.astimezone(zone).date(), time(), zone)
    count = 0
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        reports = rng.randint(2, 4) if day.weekday() >= 5 else rng.randint(6, 11)
        for hours in sorted(rng.uniform(8, 18) for _ in range(reports)):
            if (moment := day + timedelta(hours=hours)) < now:
                await history.ticket(moment, now)
                count += 1
    # Two jobs in hand (not the demo engineer's), so the risk table is never empty.
    await history.ticket(now - timedelta(minutes=50), now, stop="accepted_at")
    await history.ticket(now - timedelta(minutes=10), now, stop="assigned_at")
    count += 2
    knowledge = KnowledgeService(session, clock)
    for title, symptom, action, asset_type, self_service in ARTICLES:
        await knowledge.add(
            title=title,
            symptom=symptom,
            action=action,
            model=None,
            asset_type=asset_type,
            self_service=self_service,
        )
    return count
