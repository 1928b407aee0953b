"""An engineer's work on one job beyond the plain steps: hand it over, bring in a helper, file
the repair report on resolve, send the device to a vendor and take it back."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.dispatch.queues import engineers_with_queue
from bot.domain.enums import AssetStatus, Role, TicketStatus
from bot.domain.repairs import RepairDetails, VendorResult
from bot.domain.ticket_flow import Action, DomainError, NotAllowed, Tool, may_use
from bot.models import RepairReport, Staff, Ticket, VendorRepair
from bot.services.tickets import Outcome, TicketService, actor_of

_WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.ON_SITE, TicketStatus.SENT_OUT})


class EngineerUnavailable(DomainError):
    """The engineer picked is off duty, already on the job, or not an engineer."""

    code = "engineer_unavailable"


class BadReturnDate(DomainError):
    code = "bad_return_date"


class JobService:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets
        self.session = tickets.session
        self.clock = tickets.clock

    async def colleagues(self, ticket: Ticket) -> list[tuple[Staff, int]]:
        """On-duty engineers not yet on the ticket, with their queue length, shortest first."""
        on_ticket = {ticket.assignee_id, *ticket.helper_ids}
        rows = [
            (staff, queue)
            for staff, queue in await engineers_with_queue(self.session)
            if staff.on_duty and staff.id not in on_ticket
        ]
        return sorted(rows, key=lambda row: (row[1], row[0].name))

    async def _engineer(self, ticket: Ticket, staff_id: int) -> Staff:
        engineer = await self.session.get(Staff, staff_id)
        on_ticket = {ticket.assignee_id, *ticket.helper_ids}
        if (
            engineer is None
            or engineer.role is not Role.ENGINEER
            or not engineer.on_duty
            or engineer.id in on_ticket
        ):
            raise EngineerUnavailable(ticket.number)
        return engineer

    async def transfer(self, staff: Staff, ticket_id: int, to_id: int, reason: str) -> Outcome:
        """Hand the job to another engineer, who must accept it anew; everyone is told."""
        ticket = await self.tickets.check(staff, ticket_id, Action.TRANSFER)
        engineer = await self._engineer(ticket, to_id)
        previous = ticket.assignee
        self.tickets.move(
            ticket,
            Action.TRANSFER,
            staff,
            to=engineer.id,
            previous=ticket.assignee_id,
            reason=reason,
        )
        ticket.assignee = engineer
        engineer.last_assigned_at = self.clock.now()
        await self.tickets.flush(ticket)
        outcome = Outcome(ticket)
        extra = {"reason": reason, "by": staff.name}
        outcome.tell(*await self.tickets.engineer_notices(ticket, "job.transferred_in"))
        for notice in outcome.notices:
            notice.params.update(extra)
        if previous is not None and previous.id != staff.id:
            outcome.tell(*self.tickets.team_notices(ticket, "job.transferred_out", previous)[:1])
        outcome.tell(await self.tickets.reporter_notice(ticket, "ticket.transferred"))
        return outcome

    async def check_invite(self, staff: Staff, ticket_id: int) -> Ticket:
        """The ticket, if `staff` may bring a helper onto it now."""
        ticket = await self.tickets.get(ticket_id)
        if not may_use(
            actor_of(staff),
            Tool.HELPER,
            assignee_id=ticket.assignee_id,
            helper_ids=ticket.helper_ids,
        ):
            raise NotAllowed(ticket.number, action="helper")
        if ticket.status not in _WORKING:
            raise NotAllowed(ticket.number, action="helper", status=ticket.status.value)
        return ticket

    async def invite(self, staff: Staff, ticket_id: int, helper_id: int) -> Outcome:
        """Bring a second engineer onto the job: they get its messages and its work buttons."""
        ticket = await self.check_invite(staff, ticket_id)
        helper = await self._engineer(ticket, helper_id)
        ticket.helpers.append(helper)
        ticket.updated_at = self.clock.now()
        self.tickets.log(ticket, staff, "helper", ticket.status, ticket.status, helper=helper.id)
        await self.tickets.flush(ticket)
        outcome = Outcome(ticket)
        invited = [
            n
            for n in await self.tickets.engineer_notices(ticket, "job.helper_invited")
            if n.recipient.id == helper.id
        ]
        for notice in invited:
            notice.params["by"] = staff.name
        outcome.tell(*invited)
        reporter = await self.tickets.reporter_notice(ticket, "ticket.helper_joined")
        if reporter is not None:
            reporter.params["helper"] = helper.name
        outcome.tell(reporter)
        return outcome

    async def resolve(self, staff: Staff, ticket_id: int, details: RepairDetails) -> Outcome:
        """Resolve with the report; the reporter sees what was done."""
        outcome = await self.tickets.act(staff, ticket_id, Action.RESOLVE, note=details.action)
        self.session.add(
            RepairReport(
                ticket_id=ticket_id,
                author_id=staff.id,
                cause=details.cause.value,
                action=details.action,
                parts=details.parts,
                cost=details.cost,
                minutes=details.minutes,
                created_at=self.clock.now(),
            )
        )
        await self.session.flush()
        return outcome

    async def send_out(
        self, staff: Staff, ticket_id: int, vendor: str, expected_back: date | None
    ) -> Outcome:
        ticket = await self.tickets.check(staff, ticket_id, Action.SEND_OUT)
        if expected_back is not None and expected_back < self.clock.now().date():
            raise BadReturnDate(ticket.number)
        self.tickets.move(ticket, Action.SEND_OUT, staff, vendor=vendor)
        self.session.add(
            VendorRepair(
                ticket_id=ticket.id,
                asset_id=ticket.asset_id,
                vendor=vendor,
                expected_back=expected_back,
                sent_at=self.clock.now(),
                sent_by=staff.id,
            )
        )
        self.tickets.asset_follows(
            ticket, staff, AssetStatus.SENT_OUT, AssetStatus.IN_REPAIR, AssetStatus.IN_SERVICE
        )
        await self.tickets.flush(ticket)
        outcome = Outcome(ticket)
        extra = {"vendor": vendor, "expected": expected_back}
        outcome.tell(await self.tickets.reporter_notice(ticket, "ticket.sent_out"))
        outcome.tell(*await self.tickets.engineer_notices(ticket, "job.sent_out"))
        for notice in outcome.notices:
            notice.params.update(extra)
        return outcome

    async def receive(
        self, staff: Staff, ticket_id: int, result: VendorResult, cost: Decimal | None = None
    ) -> Outcome:
        """The device is back from the vendor: the job is in hand again (the repair clock
        restarts); a device the vendor could not repair is scrapped."""
        ticket = await self.tickets.check(staff, ticket_id, Action.RECEIVE)
        self.tickets.move(ticket, Action.RECEIVE, staff, result=result.value)
        repair = await self.open_vendor_repair(ticket.id)
        if repair is not None:
            repair.back_at = self.clock.now()
            repair.received_by = staff.id
            repair.result = result.value
            repair.cost = cost
        if result is VendorResult.UNREPAIRABLE:
            self.tickets.asset_follows(ticket, staff, AssetStatus.SCRAPPED, AssetStatus.SENT_OUT)
        else:
            self.tickets.asset_follows(ticket, staff, AssetStatus.IN_REPAIR, AssetStatus.SENT_OUT)
        await self.tickets.flush(ticket)
        outcome = Outcome(ticket)
        reporter = await self.tickets.reporter_notice(ticket, "ticket.back")
        if reporter is not None:
            reporter.params["result"] = result
        outcome.tell(reporter)
        outcome.tell(*await self.tickets.engineer_notices(ticket, "job.back"))
        return outcome

    async def open_vendor_repair(self, ticket_id: int) -> VendorRepair | None:
        return await self.session.scalar(
            select(VendorRepair)
            .where(VendorRepair.ticket_id == ticket_id, VendorRepair.back_at.is_(None))
            .order_by(VendorRepair.id.desc())
            .limit(1)
        )
