"""Answers to SLA reminders ("later", "on it"): taken only from someone the reminder went to,
which for a lent spare is whoever lent it, not necessarily the ticket's assignee."""

from sqlalchemy import select

from bot.domain.ticket_flow import NotAllowed
from bot.models import SpareLoan, Staff, Ticket
from bot.services.tickets import TicketService
from bot.sla.policy import Stage


async def reminded(tickets: TicketService, ticket: Ticket, stage: Stage) -> set[int]:
    """Who may answer a reminder of `stage` (SlaService sends them): the assignee for the job's
    own stages; for a loan also whoever lent a spare for the ticket."""
    people = {ticket.assignee_id} if ticket.assignee_id is not None else set()
    if stage is Stage.LOAN:
        people |= set(
            await tickets.session.scalars(
                select(SpareLoan.lent_by).where(SpareLoan.ticket_id == ticket.id)
            )
        )
    return people


async def answer_reminder(
    tickets: TicketService, staff: Staff, ticket_id: int, stage: Stage, answer: str
) -> Ticket:
    """The answer, kept in the ticket's log with the stage it was about."""
    ticket = await tickets.get(ticket_id)
    if staff.id not in await reminded(tickets, ticket, stage):
        raise NotAllowed(ticket.number, action="reminder")
    tickets.log(
        ticket, staff, f"reminder_{answer}", ticket.status, ticket.status, stage=stage.value
    )
    await tickets.session.flush()
    return ticket
