"""The dashboard's HTTP side (aiohttp, in the bot's process): the big-screen page, its JSON,
asset pages and a CSV export. Every request carries a signed link's token (`?t=`), checked
against its signature, its expiry and the holder still being a supervisor or admin."""

import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.enums import Role
from bot.i18n import Translator
from bot.models import Asset, RepairReport, Staff, Ticket, VendorRepair
from bot.services.assets import asset_by_code, asset_card
from bot.services.dashboard import DashboardService
from bot.services.risk import TimesCache
from bot.sla.policy import SlaPolicy
from bot.web.health import Health
from bot.web.links import BadLink, verify
from bot.web.pages import asset_page, assets_page

MAX_EXPORT_DAYS = 366
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Web:
    """What the routes need from the running bot."""

    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        policy: SlaPolicy,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.policy = policy
        self.times = TimesCache()

    async def viewer(self, request: web.Request) -> Staff:
        """The supervisor the link was given to, or 403."""
        try:
            grant = verify(
                self.settings.link_secret(), request.query.get("t", ""), self.clock.now()
            )
        except BadLink:
            raise web.HTTPForbidden(text="This link is not valid or has expired.") from None
        async with self.sessionmaker() as session:
            staff = await session.get(Staff, grant.staff_id)
        if staff is None or staff.role not in {Role.SUPERVISOR, Role.ADMIN}:
            raise web.HTTPForbidden(text="This link is no longer valid.")
        return staff

    async def page(self, request: web.Request) -> web.StreamResponse:
        staff = await self.viewer(request)
        html = resources.files("bot.web").joinpath("static/dashboard.html").read_text("utf-8")
        t = Translator(staff.language)
        html = html.replace("__LANG__", t.tag).replace("__TIME_ZONE__", self.settings.timezone)
        html = html.replace("__TITLE__", t("dashboard.title"))
        html = html.replace("__LABELS__", _json(t.section("dashboard")))
        return web.Response(text=html, content_type="text/html")

    async def data(self, request: web.Request) -> web.StreamResponse:
        await self.viewer(request)
        async with self.sessionmaker() as session:
            snapshot = await DashboardService(
                session, self.clock, self.policy, self.settings.tz, self.times
            ).snapshot()
        return web.json_response(snapshot, headers={"Cache-Control": "no-store"})

    async def assets(self, request: web.Request) -> web.StreamResponse:
        staff = await self.viewer(request)
        query = request.query.get("q", "").strip()[:64]
        async with self.sessionmaker() as session:
            exact = await asset_by_code(session, query) if query else None
            if exact is not None:
                raise web.HTTPFound(f"/assets/{exact.code}?t={request.query['t']}")
            found = (
                await session.scalars(
                    select(Asset)
                    .where(Asset.code.ilike(f"%{query}%") | Asset.model.ilike(f"%{query}%"))
                    .order_by(Asset.code)
                    .limit(50)
                )
            ).all()
        html = assets_page(Translator(staff.language), query, found, request.query["t"])
        return web.Response(text=html, content_type="text/html")

    async def asset(self, request: web.Request) -> web.StreamResponse:
        staff = await self.viewer(request)
        async with self.sessionmaker() as session:
            found = await asset_by_code(session, request.match_info["code"])
            if found is None:
                raise web.HTTPNotFound(text="No such device.")
            card = await asset_card(session, found)
        html = asset_page(Translator(staff.language), card, request.query["t"], self.settings.tz)
        return web.Response(text=html, content_type="text/html")

    async def export(self, request: web.Request) -> web.StreamResponse:
        """Tickets opened in [from, to] (local days), as CSV with a BOM so Excel reads Hangul."""
        await self.viewer(request)
        try:
            first = date.fromisoformat(request.query["from"])
            last = date.fromisoformat(request.query["to"])
        except (KeyError, ValueError):
            raise web.HTTPBadRequest(text="Use ?from=YYYY-MM-DD&to=YYYY-MM-DD") from None
        if last < first or (last - first).days > MAX_EXPORT_DAYS:
            raise web.HTTPBadRequest(text=f"The range must be 1 to {MAX_EXPORT_DAYS} days.")
        zone = self.settings.tz
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="tickets-{first}-{last}.csv"',
            }
        )
        await response.prepare(request)
        await response.write("\ufeff".encode())
        async with self.sessionmaker() as session:
            await response.write(_csv_line(EXPORT_COLUMNS))
            for row in await export_rows(session, start, end, zone):
                await response.write(_csv_line(row))
        await response.write_eof()
        return response


EXPORT_COLUMNS = (
    "number",
    "kind",
    "created",
    "department",
    "reporter",
    "asset",
    "model",
    "device_type",
    "description",
    "urgency",
    "status",
    "engineer",
    "accepted",
    "resolved",
    "closed",
    "resolution",
    "repair_cost",
    "vendor_cost",
)


async def export_rows(
    session: AsyncSession, start: datetime, end: datetime, zone: Any
) -> list[tuple[object, ...]]:
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.created_at >= start, Ticket.created_at < end)
            .order_by(Ticket.id)
        )
    ).all()
    ids = [t.id for t in tickets]
    costs: dict[str, dict[int, Any]] = {}
    for name, model in (("repair", RepairReport), ("vendor", VendorRepair)):
        costs[name] = {}
        for ticket_id, cost in await session.execute(
            select(model.ticket_id, model.cost).where(model.ticket_id.in_(ids))
        ):
            if cost is not None:
                costs[name][ticket_id] = costs[name].get(ticket_id, 0) + cost

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    return [
        (
            t.number,
            t.kind.value,
            local(t.created_at),
            t.department.name,
            t.reporter.name if t.reporter else "",
            t.asset.code if t.asset else "",
            t.asset.model if t.asset else "",
            t.device_type or "",
            t.description,
            t.urgency.value,
            t.status.value,
            t.assignee.name if t.assignee else "",
            local(t.accepted_at),
            local(t.resolved_at),
            local(t.closed_at),
            t.resolution or "",
            costs["repair"].get(t.id, ""),
            costs["vendor"].get(t.id, ""),
        )
        for t in tickets
    ]


def _csv_line(row: tuple[object, ...]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue().encode()


def _json(value: object) -> str:
    """JSON safe to embed in a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def build_web_app(web_state: Web, health: Health) -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", health.check)
    app.router.add_get("/dashboard", web_state.page)
    app.router.add_get("/api/dashboard", web_state.data)
    app.router.add_get("/assets", web_state.assets)
    app.router.add_get("/assets/{code}", web_state.asset)
    app.router.add_get("/export.csv", web_state.export)
    app.router.add_static("/static", Path(str(resources.files("bot.web").joinpath("static"))))
    return app
