"""Reports filed in batches (group commit): every report waiting when a batch starts shares one
transaction, one read of the engineers' loads, one read of each queue and one forecast.

Filed one by one, a burst of reports queued behind the dispatch lock (PostgreSQL) or SQLite's
single writer, each repeating the same reads and the simulation of every queue. A report that
finds the desk idle is filed at once, alone; those arriving meanwhile make the next batch.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.ticket_flow import DomainError
from bot.models import Asset, AttachmentKind, Department, ProcessedUpdate, Staff
from bot.services.forecast import Forecast
from bot.services.tickets import NewReport, TicketService
from bot.services.updates import AlreadyHandled
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportRequest:
    """A report as a handler hands it over: ids, since the batch has its own session."""

    reporter_id: int
    description: str
    asset_id: int | None = None
    department_id: int | None = None
    device_type: str | None = None
    attachments: tuple[tuple[AttachmentKind, str], ...] = ()
    update_id: int | None = None
    """The Telegram update it came in; claimed in the batch's transaction."""


_Waiting = tuple[ReportRequest, "asyncio.Future[int]"]
_Row = TypeVar("_Row", Staff, Asset, Department)


class Intake:
    MAX_BATCH = 200

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        forecasts: Callable[[AsyncSession], Forecast] | None,
        on_news: Callable[[], None],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.forecasts = forecasts
        self.on_news = on_news
        self._waiting: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None

    async def file(self, request: ReportRequest) -> int:
        """The new ticket's number, once it and its notices are committed. Raises the reason a
        report cannot be filed (a `DomainError`), or `AlreadyHandled` for a redelivered update."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="intake")
        return await future

    async def close(self) -> None:
        """Let the batches in hand finish (their handlers are waiting for them)."""
        if self._worker is not None:
            await self._worker

    async def _work(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.MAX_BATCH]
            del self._waiting[: self.MAX_BATCH]
            try:
                await self._file(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _fail(batch[0][1], exc)
                    continue
                # One bad report must not sink the others: file them one by one.
                log.exception("a batch of %d reports failed; filing them one by one", len(batch))
                for waiting in batch:
                    try:
                        await self._file([waiting])
                    except Exception as one:
                        _fail(waiting[1], one)

    async def _file(self, batch: Sequence[_Waiting]) -> None:
        async with self.sessionmaker() as session:
            claimed = await _claim(session, [r.update_id for r, _ in batch], self.clock)
            reports: list[tuple[NewReport, asyncio.Future[int]]] = []
            refused: list[tuple[asyncio.Future[int], Exception]] = []
            loaded = await _Loaded.read(session, [r for r, _ in batch])
            for request, future in batch:
                if request.update_id is not None:
                    if request.update_id not in claimed:  # handled before, or twice in here
                        refused.append((future, AlreadyHandled(request.update_id)))
                        continue
                    claimed.discard(request.update_id)
                report = loaded.report(request)
                try:
                    report.where()
                except DomainError as exc:
                    refused.append((future, exc))
                    continue
                reports.append((report, future))
            forecast = self.forecasts(session) if self.forecasts else None
            tickets = TicketService(session, self.clock, forecast)
            outcomes = await tickets.report_all([report for report, _ in reports])
            await UnitOfWork(session, self.clock).commit(
                [notice for outcome in outcomes for notice in outcome.notices]
            )
        if outcomes:
            self.on_news()
        for (_, future), outcome in zip(reports, outcomes, strict=True):
            assert outcome.ticket is not None
            if not future.done():
                future.set_result(outcome.ticket.number)
        for future, reason in refused:
            _fail(future, reason)


def _fail(future: "asyncio.Future[int]", exc: Exception) -> None:
    if not future.done():  # its handler may have been cancelled meanwhile
        future.set_exception(exc)


async def _claim(session: AsyncSession, update_ids: list[int | None], clock: Clock) -> set[int]:
    """Record the updates as handled in this transaction; the ids claimed (a redelivered one
    was claimed before, here or by another replica, and is left out)."""
    ids = [u for u in update_ids if u is not None]
    if not ids:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(ProcessedUpdate)
        .on_conflict_do_nothing()
        .returning(ProcessedUpdate.update_id)
    )
    now = clock.now()
    # Many rows as parameters (one statement, cached), not as one VALUES list built per batch.
    rows = [{"update_id": u, "handled_at": now} for u in ids]
    return set((await session.scalars(statement, rows)).all())


@dataclass
class _Loaded:
    """The staff, devices and departments a batch names, read in one query each."""

    staff: dict[int, Staff]
    assets: dict[int, Asset]
    departments: dict[int, Department]

    @classmethod
    async def read(cls, session: AsyncSession, requests: Sequence[ReportRequest]) -> "_Loaded":
        async def by_id(model: type[_Row], ids: set[int]) -> dict[int, _Row]:
            if not ids:
                return {}
            query = Staff.with_zones() if model is Staff else select(model)
            rows = await session.scalars(query.where(model.id.in_(ids)))
            return {row.id: row for row in rows.unique()}

        return cls(
            await by_id(Staff, {r.reporter_id for r in requests}),
            await by_id(Asset, {r.asset_id for r in requests if r.asset_id is not None}),
            await by_id(
                Department, {r.department_id for r in requests if r.department_id is not None}
            ),
        )

    def report(self, request: ReportRequest) -> NewReport:
        return NewReport(
            self.staff.get(request.reporter_id),
            request.description,
            asset=self.assets.get(request.asset_id) if request.asset_id else None,
            department=self.departments.get(request.department_id)
            if request.department_id
            else None,
            device_type=request.device_type,
            attachments=request.attachments,
        )
