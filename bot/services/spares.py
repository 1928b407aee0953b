"""The spare pool: devices with status spare, lent to a ward while its own device is away."""

from dataclasses import dataclass

from sqlalchemy import case, select, update

from bot.domain.enums import OPEN_STATUSES, AssetStatus, Role
from bot.domain.ticket_flow import DomainError, NotAllowed, Tool, may_use
from bot.models import Asset, SpareLoan, Staff, Ticket
from bot.services.lifecycle import claim, move_asset
from bot.services.tickets import Outcome, TicketService, actor_of

CHOICES = 8


class SpareUnavailable(DomainError):
    code = "spare_unavailable"


@dataclass(frozen=True)
class Pool:
    spares: list[Asset]
    loans: list[SpareLoan]


class SpareService:
    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets
        self.session = tickets.session
        self.clock = tickets.clock

    async def choices(self, ticket: Ticket) -> list[Asset]:
        """Spares to offer for a ticket: its device's type first, then the rest, by code."""
        same_type = case((Asset.type == (ticket.device_type or ""), 0), else_=1)
        rows = await self.session.scalars(
            select(Asset)
            .where(Asset.status == AssetStatus.SPARE)
            .order_by(same_type, Asset.type, Asset.code)
            .limit(CHOICES)
        )
        return list(rows.all())

    async def lendable(self, staff: Staff, ticket_id: int) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        allowed = may_use(
            actor_of(staff), Tool.LEND, assignee_id=ticket.assignee_id, helper_ids=ticket.helper_ids
        )
        if not allowed or ticket.status not in OPEN_STATUSES:
            raise NotAllowed(ticket.number, action="lend")
        return ticket

    async def lend(self, staff: Staff, ticket_id: int, spare_id: int) -> Outcome:
        ticket = await self.lendable(staff, ticket_id)
        reason = f"#{ticket.number} → {ticket.department.name}"
        spare = await claim(
            self.session,
            self.clock,
            spare_id,
            AssetStatus.SPARE,
            AssetStatus.ON_LOAN,
            staff,
            reason,
            ticket.id,
        )
        if spare is None:
            raise SpareUnavailable(ticket.number)
        self.session.add(
            SpareLoan(
                spare_id=spare.id,
                ticket_id=ticket.id,
                department_id=ticket.department_id,
                lent_by=staff.id,
                lent_at=self.clock.now(),
            )
        )
        self.tickets.log(ticket, staff, "lend", ticket.status, ticket.status, spare=spare.code)
        await self.tickets.flush(ticket)
        outcome = Outcome(ticket)
        notice = await self.tickets.reporter_notice(ticket, "ticket.spare_lent")
        if notice is not None:
            notice.params.update(spare=spare.code, spare_model=spare.model)
        outcome.tell(notice)
        return outcome

    async def give_back(self, staff: Staff, loan_id: int) -> Outcome:
        """The ward hands the spare back: it returns to the pool."""
        if staff.role not in {Role.ENGINEER, Role.SUPERVISOR, Role.ADMIN}:
            raise NotAllowed(action="return_spare")
        closed = await self.session.execute(
            update(SpareLoan)
            .where(SpareLoan.id == loan_id, SpareLoan.returned_at.is_(None))
            .values(returned_at=self.clock.now(), returned_by=staff.id)
        )
        if closed.rowcount != 1:  # type: ignore[attr-defined]
            raise SpareUnavailable()
        loan = await self.session.get(SpareLoan, loan_id, populate_existing=True)
        assert loan is not None
        ticket = await self.tickets.get(loan.ticket_id)
        move_asset(
            self.session, self.clock, loan.spare, AssetStatus.SPARE, staff, "returned", ticket.id
        )
        self.tickets.log(
            ticket, staff, "spare_returned", ticket.status, ticket.status, spare=loan.spare.code
        )
        await self.session.flush()
        outcome = Outcome(ticket)
        notice = await self.tickets.reporter_notice(ticket, "ticket.spare_returned")
        if notice is not None:
            notice.params.update(spare=loan.spare.code, spare_model=loan.spare.model)
        outcome.tell(notice)
        return outcome

    async def pool(self) -> Pool:
        spares = await self.session.scalars(
            select(Asset).where(Asset.status == AssetStatus.SPARE).order_by(Asset.type, Asset.code)
        )
        loans = await self.session.scalars(
            select(SpareLoan).where(SpareLoan.returned_at.is_(None)).order_by(SpareLoan.lent_at)
        )
        return Pool(list(spares.all()), list(loans.all()))
