"""The ticket state machine: which action may move a ticket from which state, and who may do it.

The table is the single source of truth; services apply it and log every legal move.
"""

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.enums import Role, TicketStatus

S = TicketStatus


class Action(StrEnum):
    ASSIGN = "assign"
    ACCEPT = "accept"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    AUTO_CLOSE = "auto_close"
    REOPEN = "reopen"
    CANCEL = "cancel"
    TRANSFER = "transfer"


@dataclass(frozen=True)
class Move:
    sources: frozenset[TicketStatus]
    target: TicketStatus


TRANSITIONS: dict[Action, Move] = {
    Action.ASSIGN: Move(frozenset({S.NEW, S.REOPENED}), S.ASSIGNED),
    Action.ACCEPT: Move(frozenset({S.ASSIGNED}), S.ACCEPTED),
    Action.ARRIVE: Move(frozenset({S.ACCEPTED}), S.ON_SITE),
    Action.RESOLVE: Move(frozenset({S.ACCEPTED, S.ON_SITE}), S.RESOLVED),
    Action.CONFIRM: Move(frozenset({S.RESOLVED}), S.CLOSED),
    Action.AUTO_CLOSE: Move(frozenset({S.RESOLVED}), S.CLOSED),
    Action.REOPEN: Move(frozenset({S.RESOLVED}), S.REOPENED),
    Action.CANCEL: Move(
        frozenset({S.NEW, S.ASSIGNED, S.ACCEPTED, S.ON_SITE, S.REOPENED}), S.CANCELLED
    ),
    Action.TRANSFER: Move(frozenset({S.ASSIGNED, S.ACCEPTED, S.ON_SITE}), S.ASSIGNED),
}


class DomainError(Exception):
    """A request the desk refuses; `code` picks the polite message shown to the user."""

    code = "error"

    def __init__(self, ticket_number: int | None = None, **details: object) -> None:
        super().__init__(f"{self.code} (ticket {ticket_number}) {details or ''}".strip())
        self.ticket_number = ticket_number
        self.details = details


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, ticket_number: int, action: Action, status: TicketStatus) -> None:
        super().__init__(ticket_number, action=action.value, status=status.value)
        self.action = action
        self.status = status


class NotAllowed(DomainError):
    code = "not_allowed"


class TicketNotFound(DomainError):
    code = "ticket_not_found"


class ConcurrentChange(DomainError):
    code = "concurrent_change"


def next_status(number: int, action: Action, current: TicketStatus) -> TicketStatus:
    """The state `action` leads to from `current`, or IllegalTransition saying why not."""
    move = TRANSITIONS[action]
    if current not in move.sources:
        raise IllegalTransition(number, action, current)
    return move.target


@dataclass(frozen=True)
class Actor:
    """Who presses the button: enough to decide permissions without a database."""

    staff_id: int | None
    role: Role | None

    @property
    def is_system(self) -> bool:
        return self.staff_id is None


SYSTEM = Actor(staff_id=None, role=None)
_MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def may(actor: Actor, action: Action, *, reporter_id: int, assignee_id: int | None) -> bool:
    """Whether `actor` may apply `action` to a ticket with these people on it."""
    if actor.is_system:
        return action in {Action.ASSIGN, Action.AUTO_CLOSE, Action.TRANSFER}
    if actor.role in _MANAGERS:
        return action is not Action.AUTO_CLOSE
    if action in {Action.ACCEPT, Action.ARRIVE, Action.RESOLVE, Action.TRANSFER}:
        return actor.staff_id == assignee_id and actor.role is Role.ENGINEER
    if action in {Action.CONFIRM, Action.REOPEN, Action.CANCEL}:
        return actor.staff_id == reporter_id
    return False


ENGINEER_BUTTONS: dict[TicketStatus, tuple[Action, ...]] = {
    S.ASSIGNED: (Action.ACCEPT,),
    S.ACCEPTED: (Action.ARRIVE, Action.RESOLVE),
    S.ON_SITE: (Action.RESOLVE,),
}
"""What the assignee can press next, per status; empty when the job has left their hands."""

REPORTER_BUTTONS: dict[TicketStatus, tuple[Action, ...]] = {
    S.RESOLVED: (Action.CONFIRM, Action.REOPEN),
    **{status: (Action.CANCEL,) for status in TRANSITIONS[Action.CANCEL].sources},
}
