"""The ticket life cycle over the database: report, dispatch, act, auto-close, duty changes.

Every move goes through the transition table in `bot.domain.ticket_flow`, is stamped and logged,
and yields the notices that tell the people on the ticket what happened.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.dispatch.queues import (
    Roster,
    queue_position,
    queue_positions,
    serialize_dispatch,
    waiting_pool,
)
from bot.domain.enums import OPEN_STATUSES, AssetStatus, Role, TicketKind, TicketStatus, Urgency
from bot.domain.ticket_flow import (
    ENGINEER_BUTTONS,
    HELPER_BUTTONS,
    REPORTER_BUTTONS,
    Action,
    Actor,
    ConcurrentChange,
    DomainError,
    NotAllowed,
    TicketNotFound,
    may,
    next_status,
)
from bot.models import (
    Asset,
    Attachment,
    AttachmentKind,
    Department,
    KbArticle,
    Staff,
    Ticket,
)
from bot.services.forecast import Forecast, Window
from bot.services.lifecycle import follow
from bot.services.notices import ATTACHMENTS, URGENCY_ROW, Notice
from bot.services.ticket_log import log_event

_STAMPS = {
    TicketStatus.ASSIGNED: "assigned_at",
    TicketStatus.ACCEPTED: "accepted_at",
    TicketStatus.ON_SITE: "on_site_at",
    TicketStatus.SENT_OUT: "sent_out_at",
    TicketStatus.RESOLVED: "resolved_at",
    TicketStatus.CLOSED: "closed_at",
    TicketStatus.REOPENED: "reopened_at",
    TicketStatus.CANCELLED: "cancelled_at",
}

_ACTION_STAMPS = {Action.RECEIVE: "back_at"}
"""Moves whose stamp is not their target's: a device back from the vendor keeps the time the
job was first accepted."""

_REPORTER_KEYS = {
    Action.ACCEPT: "ticket.accepted",
    Action.ARRIVE: "ticket.on_site",
    Action.RESOLVE: "ticket.resolved",
    Action.CONFIRM: "ticket.closed",
    Action.CANCEL: "ticket.cancelled",
}


class NeedsDepartment(DomainError):
    code = "needs_department"


class TicketNotOpen(DomainError):
    code = "ticket_not_open"


class EmptyDescription(DomainError):
    code = "empty_description"


@dataclass
class Outcome:
    ticket: Ticket | None = None
    notices: list[Notice] = field(default_factory=list)

    def tell(self, *notices: Notice | None, first: bool = False) -> None:
        """Add notices (None: nobody to tell, e.g. an inspection has no reporter)."""
        present = [n for n in notices if n is not None]
        if first:
            self.notices[0:0] = present
        else:
            self.notices.extend(present)


@dataclass(frozen=True)
class NewReport:
    """What one report says, before it is a ticket."""

    reporter: Staff | None
    description: str
    urgency: Urgency = Urgency.NORMAL
    asset: Asset | None = None
    department: Department | None = None
    """Where the fault is when it is not the device's or the reporter's (heard in a voice)."""
    device_type: str | None = None
    attachments: Sequence[tuple[AttachmentKind, str]] = ()
    kind: TicketKind = TicketKind.REPAIR

    def where(self) -> tuple[str, Department]:
        """The description and the department to file under, or the reason it cannot be
        filed: the named device's department, else the one given, else the reporter's."""
        text = self.description.strip()
        if not text:
            raise EmptyDescription()
        department = (
            (self.asset.department if self.asset is not None else None)
            or self.department
            or (self.reporter.department if self.reporter else None)
        )
        if department is None:
            raise NeedsDepartment()
        return text, department


@dataclass
class Standing:
    """Where tickets stand for the messages about them: queue positions, expected-by windows
    and which have attachments, read once for however many notices."""

    positions: dict[int, int | None]
    windows: dict[int, Window]
    with_attachments: set[int]


def _job_key(ticket: Ticket, key: str = "job.assigned") -> str:
    """An inspection's job message says it is one."""
    inspection = ticket.kind is TicketKind.INSPECTION and key == "job.assigned"
    return "job.inspection" if inspection else key


def _known(ticket: Ticket, **related: Any) -> None:
    """What a new ticket refers to, given as loaded state rather than as changes: its foreign
    keys are set as columns, and the rows they name (and its empty helpers) are what reading
    it would give. Its renderers then find them without a load (none can run here), and its
    flush has no relationships to synchronise or collections to track (~5 % of the intake
    bench's CPU). The rows must have their ids by then (a pending one's would be written as
    NULL): `report_all` reads the roster first, and that query flushes whatever is pending."""
    for key, value in related.items():
        set_committed_value(ticket, key, value)


def actor_of(staff: Staff | None) -> Actor:
    return Actor(None, None) if staff is None else Actor(staff.id, staff.role)


def engineer_buttons(ticket: Ticket, staff_id: int | None = None) -> tuple[str, ...]:
    """The job buttons for the assignee, or for helper `staff_id`."""
    table = HELPER_BUTTONS if staff_id is not None and staff_id != ticket.assignee_id else None
    return tuple(str(a) for a in (table or ENGINEER_BUTTONS).get(ticket.status, ()))


def reporter_buttons(ticket: Ticket) -> tuple[str, ...]:
    return tuple(str(a) for a in REPORTER_BUTTONS.get(ticket.status, ()))


class TicketService:
    def __init__(
        self, session: AsyncSession, clock: Clock, forecast: Forecast | None = None
    ) -> None:
        self.session = session
        self.clock = clock
        self.forecast = forecast
        """When given, reporters' messages about open tickets carry an expected-by window."""

    # --- reads -------------------------------------------------------------------------

    async def get(self, ticket_id: int) -> Ticket:
        ticket = await self.session.get(Ticket, ticket_id)
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    async def position(self, ticket: Ticket) -> int | None:
        return await queue_position(self.session, ticket)

    async def open_tickets_of(self, reporter: Staff) -> list[tuple[Ticket, int | None]]:
        tickets = (
            await self.session.scalars(
                select(Ticket)
                .where(
                    Ticket.reporter_id == reporter.id,
                    Ticket.status.in_([*OPEN_STATUSES, TicketStatus.RESOLVED]),
                )
                .order_by(Ticket.id)
            )
        ).all()
        positions = await queue_positions(self.session, tickets)
        return [(t, positions[t.id]) for t in tickets]

    # --- reporting and dispatch ----------------------------------------------------------

    async def report(
        self,
        reporter: Staff | None,
        description: str,
        urgency: Urgency = Urgency.NORMAL,
        *,
        asset: Asset | None = None,
        department: Department | None = None,
        device_type: str | None = None,
        attachments: Sequence[tuple[AttachmentKind, str]] = (),
        kind: TicketKind = TicketKind.REPAIR,
    ) -> Outcome:
        """A new ticket (see `NewReport`). Inspections are opened by the desk itself."""
        report = NewReport(
            reporter, description, urgency, asset, department, device_type, attachments, kind
        )
        return (await self.report_all([report]))[0]

    async def report_all(self, reports: Sequence[NewReport]) -> list[Outcome]:
        """New tickets, dispatched in order, with one read of the engineers' loads, one of each
        queue and one forecast for them all, and one flush. Raises the first report's reason
        it cannot be filed; callers filing many check `NewReport.where` first."""
        if not reports:
            return []
        now = self.clock.now()
        filed = [(report, *report.where()) for report in reports]
        # Read before the new tickets join the session: they are inserted once, assigned.
        await serialize_dispatch(self.session)
        roster = await Roster.read(self.session)
        tickets: list[Ticket] = []
        attached: list[Ticket] = []
        for report, text, department in filed:
            ticket = Ticket(
                kind=report.kind,
                reporter_id=report.reporter.id if report.reporter else None,
                department_id=department.id,
                asset_id=report.asset.id if report.asset else None,
                device_type=report.asset.type if report.asset else report.device_type,
                description=text,
                urgency=report.urgency,
                status=TicketStatus.NEW,
                created_at=now,
                updated_at=now,
            )
            _known(
                ticket,
                reporter=report.reporter,
                department=department,
                asset=report.asset,
                helpers=[],
            )
            self.session.add(ticket)
            self.log(
                ticket,
                report.reporter,
                "report",
                None,
                TicketStatus.NEW,
                urgency=report.urgency.value,
                asset=report.asset.code if report.asset else None,
            )
            for attachment_kind, file_id in report.attachments:
                self.attach(ticket, report.reporter, attachment_kind, file_id)
            if report.attachments:
                attached.append(ticket)
            tickets.append(ticket)
        alerts, standing = await self._hand_out(tickets, roster, attached=attached)
        outcomes = []
        for ticket, alert in zip(tickets, alerts, strict=True):
            outcome = Outcome(ticket)
            created = await self.reporter_notice(ticket, "ticket.created", standing)
            if created is not None:
                created = replace(created, buttons=(URGENCY_ROW, *created.buttons))
            outcome.tell(created, *alert)
            outcome.tell(*await self.engineer_notices(ticket, _job_key(ticket), standing))
            outcomes.append(outcome)
        return outcomes

    async def record_self_solved(self, reporter: Staff, asset: Asset, article: KbArticle) -> Ticket:
        """The ward fixed it with a self-help article: a ticket closed on the spot, so the fault
        still counts in the device's history and the statistics."""
        now = self.clock.now()
        ticket = Ticket(
            reporter=reporter,
            department=asset.department,
            asset=asset,
            device_type=asset.type,
            description=article.symptom,
            resolution=article.action,
            status=TicketStatus.CLOSED,
            self_help_article_id=article.id,
            created_at=now,
            resolved_at=now,
            closed_at=now,
            updated_at=now,
        )
        self.session.add(ticket)
        await self.session.flush()
        self.log(ticket, reporter, "self_solved", None, TicketStatus.CLOSED, article=article.id)
        await self.session.flush()
        return ticket

    def attach(
        self, ticket: Ticket, staff: Staff | None, kind: AttachmentKind, file_id: str
    ) -> None:
        self.session.add(
            Attachment(
                ticket=ticket,
                kind=kind,
                file_id=file_id,
                added_by=staff.id if staff else None,
                added_at=self.clock.now(),
            )
        )

    async def open_ticket_for(self, asset: Asset) -> Ticket | None:
        """The device's ticket still in progress, so a second scan does not open a duplicate."""
        return await self.session.scalar(
            select(Ticket)
            .where(
                Ticket.asset_id == asset.id,
                Ticket.status.in_([*OPEN_STATUSES, TicketStatus.RESOLVED]),
            )
            .order_by(Ticket.id.desc())
            .limit(1)
        )

    async def jobs_in_hand(self, engineer: Staff) -> list[Ticket]:
        """Jobs the engineer has accepted or is on site for: where a label photo belongs."""
        return list(
            (
                await self.session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.assignee_id == engineer.id,
                        Ticket.status.in_([TicketStatus.ACCEPTED, TicketStatus.ON_SITE]),
                    )
                    .order_by(Ticket.id)
                )
            ).all()
        )

    async def bind_asset(self, staff: Staff, ticket_id: int, asset: Asset) -> Outcome:
        """The engineer on the job names (or corrects) the device the ticket is about."""
        ticket = await self.get(ticket_id)
        if staff.id != ticket.assignee_id and staff.role not in {Role.SUPERVISOR, Role.ADMIN}:
            raise NotAllowed(ticket.number, action="bind_asset")
        if ticket.status not in OPEN_STATUSES:
            raise TicketNotOpen(ticket.number, status=ticket.status.value)
        outcome = Outcome(ticket)
        if ticket.asset_id == asset.id:
            return outcome
        self.log(
            ticket,
            staff,
            "bind_asset",
            ticket.status,
            ticket.status,
            old=ticket.asset.code if ticket.asset else None,
            new=asset.code,
        )
        ticket.asset = asset
        ticket.device_type = asset.type
        ticket.updated_at = self.clock.now()
        if ticket.status in {TicketStatus.ACCEPTED, TicketStatus.ON_SITE}:
            self.asset_follows(ticket, staff, AssetStatus.IN_REPAIR, AssetStatus.IN_SERVICE)
        await self.flush(ticket)
        outcome.tell(await self.reporter_notice(ticket, "ticket.asset_bound"))
        return outcome

    def asset_follows(
        self, ticket: Ticket, staff: Staff | None, to: AssetStatus, *when: AssetStatus
    ) -> None:
        """Move the ticket's device along with the job, logged against the ticket."""
        follow(
            self.session,
            self.clock,
            ticket.asset,
            to,
            when=when,
            actor=staff,
            reason=f"#{ticket.number}",
            ticket_id=ticket.id,
        )

    async def _dispatch(
        self,
        ticket: Ticket,
        outcome: Outcome,
        *,
        prefer: Staff | None = None,
        exclude: frozenset[int] = frozenset(),
        key: str = "job.assigned",
    ) -> Staff | None:
        """Give the ticket to an engineer, or tell the supervisors nobody could take it."""
        await serialize_dispatch(self.session)
        engineer = self._assign(ticket, await Roster.read(self.session), prefer, exclude)
        if engineer is None:
            outcome.tell(*self._unassigned(ticket, await self.supervisors()))
            return None
        await self.session.flush()
        outcome.tell(*await self.engineer_notices(ticket, _job_key(ticket, key)))
        return engineer

    async def _hand_out(
        self,
        tickets: Sequence[Ticket],
        roster: Roster,
        exclude: frozenset[int] = frozenset(),
        *,
        attached: Collection[Ticket] | None = None,
    ) -> tuple[list[list[Notice]], Standing]:
        """Dispatch these tickets in order from one read of the engineers' loads (the caller
        holds the dispatch lock), then where they all stand; for each, the supervisors' alerts
        if nobody could take it. `attached`: see `standing`."""
        supervisors: Sequence[Staff] | None = None
        alerts: list[list[Notice]] = []
        for ticket in tickets:
            if self._assign(ticket, roster, exclude=exclude) is not None:
                alerts.append([])
                continue
            supervisors = supervisors if supervisors is not None else await self.supervisors()
            alerts.append(self._unassigned(ticket, supervisors))
        await self.session.flush()
        return alerts, await self.standing(tickets, attached=attached)

    def _assign(
        self,
        ticket: Ticket,
        roster: Roster,
        prefer: Staff | None = None,
        exclude: frozenset[int] = frozenset(),
    ) -> Staff | None:
        """Hand the ticket to `prefer` if on duty, else to the roster's pick; None if nobody is
        on duty. The caller holds the dispatch lock."""
        engineer = prefer if prefer is not None and prefer.on_duty else None
        engineer = engineer or roster.pick(ticket.department.zone.name, exclude)
        if engineer is None:
            return None
        action = Action.ASSIGN if ticket.status != TicketStatus.ASSIGNED else Action.TRANSFER
        self.move(ticket, action, None, to=engineer.id, previous=ticket.assignee_id)
        ticket.assignee = engineer
        engineer.last_assigned_at = self.clock.now()
        roster.took(engineer, ticket.urgency, engineer.last_assigned_at)
        return engineer

    def _unassigned(self, ticket: Ticket, supervisors: Sequence[Staff]) -> list[Notice]:
        return [Notice(s, "alert.unassigned", self.params(ticket), ticket.id) for s in supervisors]

    # --- actions on one ticket -----------------------------------------------------------

    async def check(self, staff: Staff, ticket_id: int, action: Action) -> Ticket:
        """The ticket, if `staff` may apply `action` to it now; else the reason as an error."""
        ticket = await self.get(ticket_id)
        actor = actor_of(staff)
        if not may(
            actor,
            action,
            reporter_id=ticket.reporter_id,
            assignee_id=ticket.assignee_id,
            helper_ids=ticket.helper_ids,
        ):
            raise NotAllowed(ticket.number, action=action.value)
        next_status(ticket.number, action, ticket.status)
        return ticket

    async def act(
        self, staff: Staff, ticket_id: int, action: Action, note: str | None = None
    ) -> Outcome:
        ticket = await self.check(staff, ticket_id, action)
        previous_assignee = ticket.assignee
        self.move(ticket, action, staff, note=note)
        outcome = Outcome(ticket)
        if action is Action.ACCEPT:
            self.asset_follows(ticket, staff, AssetStatus.IN_REPAIR, AssetStatus.IN_SERVICE)
        if action in {Action.RESOLVE, Action.CANCEL}:
            self.asset_follows(ticket, staff, AssetStatus.IN_SERVICE, AssetStatus.IN_REPAIR)
        if action is Action.RESOLVE:
            ticket.resolution = note
            if ticket.kind is TicketKind.INSPECTION:
                self._inspected(ticket, outcome)
        elif action is Action.REOPEN:
            await self._dispatch(ticket, outcome, prefer=previous_assignee, key="job.reopened")
            outcome.tell(await self.reporter_notice(ticket, "ticket.reopened"), first=True)
        if action in _REPORTER_KEYS:
            outcome.tell(await self.reporter_notice(ticket, _REPORTER_KEYS[action]))
        if action in {Action.CONFIRM, Action.CANCEL} and previous_assignee is not None:
            key = "job.closed" if action is Action.CONFIRM else "job.cancelled"
            outcome.tell(*self.team_notices(ticket, key, previous_assignee))
        await self.flush(ticket)
        return outcome

    def _inspected(self, ticket: Ticket, outcome: Outcome) -> None:
        """An inspection has nobody to confirm it: resolving it closes it and dates the
        device's last inspection."""
        self.move(ticket, Action.AUTO_CLOSE, None)
        if ticket.asset is not None:
            ticket.asset.inspected_at = self.clock.now()

    def team_notices(self, ticket: Ticket, key: str, assignee: Staff | None = None) -> list[Notice]:
        """A plain message (no buttons) to the engineer on the job and every helper."""
        team = [assignee or ticket.assignee, *ticket.helpers]
        return [Notice(s, key, self.params(ticket), ticket.id) for s in team if s is not None]

    async def set_urgency(self, staff: Staff, ticket_id: int, urgency: Urgency) -> Outcome:
        ticket = await self.get(ticket_id)
        allowed = staff.role in {Role.SUPERVISOR, Role.ADMIN} or staff.id in {
            ticket.reporter_id,
            ticket.assignee_id,
        }
        if not allowed:
            raise NotAllowed(ticket.number, action="urgency")
        if ticket.status not in OPEN_STATUSES:
            raise TicketNotOpen(ticket.number, status=ticket.status.value)
        outcome = Outcome(ticket)
        if ticket.urgency == urgency:
            return outcome
        self.log(
            ticket,
            staff,
            "urgency",
            ticket.status,
            ticket.status,
            old=ticket.urgency.value,
            new=urgency.value,
        )
        ticket.urgency = urgency
        ticket.updated_at = self.clock.now()
        await self.flush(ticket)
        outcome.tell(await self.reporter_notice(ticket, "ticket.urgency_changed"))
        outcome.tell(*await self.engineer_notices(ticket, "job.urgency_changed"))
        return outcome

    # --- many tickets at once ------------------------------------------------------------

    async def auto_close(self, after: timedelta) -> Outcome:
        """Close tickets whose reporter neither confirmed nor reopened within `after`."""
        cutoff = self.clock.now() - after
        due = (
            await self.session.scalars(
                select(Ticket)
                .where(Ticket.status == TicketStatus.RESOLVED, Ticket.resolved_at <= cutoff)
                .order_by(Ticket.id)
            )
        ).all()
        outcome = Outcome()
        for ticket in due:
            self.move(ticket, Action.AUTO_CLOSE, None)
            outcome.tell(await self.reporter_notice(ticket, "ticket.auto_closed"))
            await self.flush(ticket)
        return outcome

    async def set_duty_by(self, supervisor: Staff, engineer_id: int, on_duty: bool) -> Outcome:
        """A supervisor puts an engineer on or off duty; the engineer is told."""
        if supervisor.role not in {Role.SUPERVISOR, Role.ADMIN}:
            raise NotAllowed(action="duty")
        engineer = await self.session.get(Staff, engineer_id)
        if engineer is None or engineer.role is not Role.ENGINEER:
            raise NotAllowed(action="duty")
        outcome = await self.set_duty(engineer, on_duty)
        key = "duty.set_on" if on_duty else "duty.set_off"
        outcome.notices.insert(0, Notice(engineer, key, {"supervisor": supervisor.name}))
        return outcome

    async def set_duty(self, engineer: Staff, on_duty: bool) -> Outcome:
        """Going on duty picks up waiting tickets; going off hands back jobs not yet accepted."""
        if engineer.role is not Role.ENGINEER:
            raise NotAllowed(action="duty")
        await serialize_dispatch(self.session)
        engineer.on_duty = on_duty
        if on_duty:
            tickets, exclude, told = await waiting_pool(self.session), frozenset[int](), "assigned"
        else:
            mine = select(Ticket).where(
                Ticket.assignee_id == engineer.id, Ticket.status == TicketStatus.ASSIGNED
            )
            tickets = list((await self.session.scalars(mine.order_by(Ticket.id))).all())
            exclude, told = frozenset({engineer.id}), "transferred"
        alerts, standing = await self._hand_out(tickets, await Roster.read(self.session), exclude)
        outcome = Outcome()
        for ticket, alert in zip(tickets, alerts, strict=True):
            if alert:
                outcome.tell(*alert)
                continue
            outcome.tell(*await self.engineer_notices(ticket, _job_key(ticket), standing))
            outcome.tell(await self.reporter_notice(ticket, f"ticket.{told}", standing))
        return outcome

    # --- helpers ---------------------------------------------------------------------------

    def move(self, ticket: Ticket, action: Action, staff: Staff | None, **data: Any) -> None:
        before = ticket.status
        after = next_status(ticket.number, action, before)
        now = self.clock.now()
        ticket.status = after
        ticket.updated_at = now
        setattr(ticket, _ACTION_STAMPS.get(action, _STAMPS[after]), now)
        self.log(ticket, staff, action.value, before, after, **data)

    def log(
        self,
        ticket: Ticket,
        staff: Staff | None,
        action: str,
        before: TicketStatus | None,
        after: TicketStatus | None,
        **data: Any,
    ) -> None:
        log_event(
            self.session.sync_session,
            ticket,
            {
                "at": self.clock.now(),
                "actor_id": None if staff is None else staff.id,
                "action": action,
                "from_status": before,
                "to_status": after,
                "data": {k: v for k, v in data.items() if v is not None},
            },
        )

    async def flush(self, ticket: Ticket) -> None:
        number = ticket.number  # read now: after a failed flush the row cannot be loaded
        try:
            await self.session.flush()
        except StaleDataError:
            raise ConcurrentChange(number) from None

    async def supervisors(self) -> Sequence[Staff]:
        return (
            await self.session.scalars(select(Staff).where(Staff.role == Role.SUPERVISOR))
        ).all()

    def params(self, ticket: Ticket, **extra: Any) -> dict[str, Any]:
        return {
            "number": ticket.number,
            "department": ticket.department.name,
            "description": ticket.description,
            "urgency": ticket.urgency,
            "status": ticket.status,
            "engineer": ticket.assignee.name if ticket.assignee else None,
            "reporter": ticket.reporter.name if ticket.reporter else None,
            "kind": ticket.kind,
            "resolution": ticket.resolution,
            "priority": ticket.department.priority,
            "asset": ticket.asset.code if ticket.asset else None,
            "model": ticket.asset.model if ticket.asset else None,
            "location": ticket.asset.location if ticket.asset else None,
            **extra,
        }

    async def standing(
        self,
        tickets: Sequence[Ticket],
        *,
        eta: bool = True,
        attachments: bool = True,
        attached: Collection[Ticket] | None = None,
    ) -> Standing:
        """Positions always; the forecast (reporters' windows) and the attachments (engineers'
        button) when asked for. `attached`, the tickets known to have attachments (new ones,
        filed with them), spares reading that."""
        positions = await queue_positions(self.session, tickets)
        windows = {}
        if eta and self.forecast is not None and any(t.status in OPEN_STATUSES for t in tickets):
            windows = await self.forecast.windows()
        with_attachments: set[int] = set()
        if attached is not None:
            with_attachments.update(t.id for t in attached)
        elif attachments:
            ids = [t.id for t in tickets]
            found = select(Attachment.ticket_id).where(Attachment.ticket_id.in_(ids)).distinct()
            with_attachments.update((await self.session.scalars(found)).all())
        return Standing(positions, windows, with_attachments)

    async def reporter_notice(
        self, ticket: Ticket, key: str, standing: Standing | None = None
    ) -> Notice | None:
        if ticket.reporter is None:
            return None
        standing = standing or await self.standing([ticket], attachments=False)
        params = self.params(ticket, position=standing.positions.get(ticket.id))
        if self.forecast is not None and ticket.status in OPEN_STATUSES:
            params["eta"] = standing.windows.get(ticket.id)
        return Notice(ticket.reporter, key, params, ticket.id, reporter_buttons(ticket))

    async def engineer_notices(
        self, ticket: Ticket, key: str, standing: Standing | None = None
    ) -> list[Notice]:
        """The job message for the assignee and every helper, each with their own buttons."""
        if ticket.assignee is None:
            return []
        standing = standing or await self.standing([ticket], eta=False)
        extra = (ATTACHMENTS,) if ticket.id in standing.with_attachments else ()
        position = standing.positions.get(ticket.id)
        return [
            Notice(
                s,
                key,
                self.params(ticket, position=position),
                ticket.id,
                (*engineer_buttons(ticket, s.id), *extra),
            )
            for s in (ticket.assignee, *ticket.helpers)
        ]

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        rows = await self.session.scalars(
            select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
        )
        return list(rows.all())
