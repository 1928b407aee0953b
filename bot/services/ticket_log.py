"""The tickets' event log, written with Core: the events logged in a session go out in one
INSERT at its next query, flush or commit, in the order they were logged.

As ORM objects, a report's two events (filed, assigned) cost about a quarter of the intake's
batch (bench/intake_stages.py). The log is append-only and nothing reads an event back as an
object, so it needs no unit of work. An event of a ticket not yet flushed waits for the flush
that gives the ticket its id, and so do the events logged after it.
"""

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from bot.models import Ticket, TicketEvent

_PENDING = "ticket_events"
"""Where a session keeps the events it has not written yet (`Session.info`)."""


def log_event(session: Session, ticket: Ticket, row: dict[str, Any]) -> None:
    """`row`: the event's columns but the ticket's id, which it may not have yet."""
    session.info.setdefault(_PENDING, []).append((ticket, row))


def has_pending_events(session: Session) -> bool:
    return bool(session.info.get(_PENDING))


def _write(session: Session) -> None:
    pending: list[tuple[Ticket, dict[str, Any]]] = session.info.get(_PENDING, [])
    ready = []
    for ticket, row in pending:
        identity = inspect(ticket).identity  # no load: None until the ticket is flushed
        if identity is None:
            break
        ready.append({**row, "ticket_id": identity[0]})
    if ready:
        del pending[: len(ready)]
        session.connection().execute(insert(TicketEvent), ready)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    """A query in the same transaction sees the events logged before it."""
    _write(state.session)


@event.listens_for(Session, "after_flush_postexec")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    _write(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if not has_pending_events(session):
        return
    session.flush()  # the tickets still without an id get one; the flush writes their events
    _write(session)
    if has_pending_events(session):
        raise RuntimeError("ticket events logged for a ticket that is not in the session")


@event.listens_for(Session, "after_transaction_end")
def _after_transaction(session: Session, transaction: SessionTransaction) -> None:
    """Events not written by the end (a rollback) belonged to the work rolled back."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
