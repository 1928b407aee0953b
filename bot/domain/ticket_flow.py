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
    SEND_OUT = "send_out"
    RECEIVE = "receive"


class Tool(StrEnum):
    """Job buttons that change who or what is on a ticket, not its status."""

    HELPER = "helper"
    LEND = "lend"


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
    Action.SEND_OUT: Move(frozenset({S.ACCEPTED, S.ON_SITE}), S.SENT_OUT),
    Action.RECEIVE: Move(frozenset({S.SENT_OUT}), S.ACCEPTED),
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


_ASSIGNEE_ONLY = frozenset({Action.ACCEPT, Action.TRANSFER})
_TEAM = frozenset({Action.ARRIVE, Action.RESOLVE, Action.SEND_OUT, Action.RECEIVE})


def may(
    actor: Actor,
    action: Action,
    *,
    reporter_id: int | None,
    assignee_id: int | None,
    helper_ids: frozenset[int] = frozenset(),
) -> bool:
    """Whether `actor` may apply `action` to a ticket with these people on it.

    Helpers work the job alongside the assignee, but only the assignee accepts or hands it on.
    """
    if actor.is_system:
        return action in {Action.ASSIGN, Action.AUTO_CLOSE, Action.TRANSFER}
    if actor.role in _MANAGERS:
        return action is not Action.AUTO_CLOSE
    if actor.role is Role.ENGINEER and action in _ASSIGNEE_ONLY:
        return actor.staff_id == assignee_id
    if actor.role is Role.ENGINEER and action in _TEAM:
        return actor.staff_id == assignee_id or actor.staff_id in helper_ids
    if action in {Action.CONFIRM, Action.REOPEN, Action.CANCEL}:
        return reporter_id is not None and actor.staff_id == reporter_id
    return False


def may_use(
    actor: Actor, tool: Tool, *, assignee_id: int | None, helper_ids: frozenset[int]
) -> bool:
    """Whether `actor` may invite a helper to, or lend a spare for, a ticket."""
    if actor.role in _MANAGERS:
        return True
    if actor.role is not Role.ENGINEER:
        return False
    if tool is Tool.HELPER:
        return actor.staff_id == assignee_id
    return actor.staff_id == assignee_id or actor.staff_id in helper_ids


ENGINEER_BUTTONS: dict[TicketStatus, tuple[str, ...]] = {
    S.ASSIGNED: (Action.ACCEPT, Action.TRANSFER),
    S.ACCEPTED: (
        Action.ARRIVE,
        Action.RESOLVE,
        Action.TRANSFER,
        Tool.HELPER,
        Action.SEND_OUT,
        Tool.LEND,
    ),
    S.ON_SITE: (Action.RESOLVE, Action.TRANSFER, Tool.HELPER, Action.SEND_OUT, Tool.LEND),
    S.SENT_OUT: (Action.RECEIVE, Tool.LEND),
}
"""What the assignee can press next, per status; empty when the job has left their hands."""

HELPER_BUTTONS: dict[TicketStatus, tuple[str, ...]] = {
    S.ACCEPTED: (Action.ARRIVE, Action.RESOLVE, Tool.LEND),
    S.ON_SITE: (Action.RESOLVE, Tool.LEND),
    S.SENT_OUT: (Action.RECEIVE, Tool.LEND),
}
"""What a helper can press: the work, not the hand-over."""

REPORTER_BUTTONS: dict[TicketStatus, tuple[str, ...]] = {
    S.RESOLVED: (Action.CONFIRM, Action.REOPEN),
    **{status: (Action.CANCEL,) for status in TRANSITIONS[Action.CANCEL].sources},
}
