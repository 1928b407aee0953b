"""The ticket state machine and who may press what, without a database."""

import pytest

from bot.domain.enums import Role, TicketStatus
from bot.domain.ticket_flow import (
    ENGINEER_BUTTONS,
    HELPER_BUTTONS,
    REPORTER_BUTTONS,
    SYSTEM,
    TRANSITIONS,
    Action,
    Actor,
    IllegalTransition,
    Tool,
    may,
    may_use,
    next_status,
)

S = TicketStatus

HAPPY_PATH = [
    (Action.ASSIGN, S.NEW, S.ASSIGNED),
    (Action.ACCEPT, S.ASSIGNED, S.ACCEPTED),
    (Action.ARRIVE, S.ACCEPTED, S.ON_SITE),
    (Action.RESOLVE, S.ON_SITE, S.RESOLVED),
    (Action.CONFIRM, S.RESOLVED, S.CLOSED),
]


@pytest.mark.parametrize(("action", "before", "after"), HAPPY_PATH)
def test_happy_path_moves(action: Action, before: TicketStatus, after: TicketStatus) -> None:
    assert next_status(1, action, before) is after


def test_side_paths() -> None:
    assert next_status(1, Action.RESOLVE, S.ACCEPTED) is S.RESOLVED  # remote fix, no visit
    assert next_status(1, Action.AUTO_CLOSE, S.RESOLVED) is S.CLOSED
    assert next_status(1, Action.REOPEN, S.RESOLVED) is S.REOPENED
    assert next_status(1, Action.ASSIGN, S.REOPENED) is S.ASSIGNED
    assert next_status(1, Action.TRANSFER, S.ACCEPTED) is S.ASSIGNED
    for status in (S.NEW, S.ASSIGNED, S.ACCEPTED, S.ON_SITE, S.REOPENED):
        assert next_status(1, Action.CANCEL, status) is S.CANCELLED


def test_every_illegal_pair_is_refused_with_its_reason() -> None:
    refused = 0
    for action, move in TRANSITIONS.items():
        for status in set(TicketStatus) - move.sources:
            with pytest.raises(IllegalTransition) as info:
                next_status(42, action, status)
            assert info.value.ticket_number == 42
            assert info.value.status is status
            assert info.value.action is action
            refused += 1
    assert refused == sum(len(TicketStatus) - len(m.sources) for m in TRANSITIONS.values())


@pytest.mark.parametrize("final", [S.CLOSED, S.CANCELLED])
def test_final_states_accept_nothing(final: TicketStatus) -> None:
    assert all(final not in move.sources for move in TRANSITIONS.values())


REPORTER = Actor(1, Role.REPORTER)
ENGINEER = Actor(2, Role.ENGINEER)
OTHER_ENGINEER = Actor(3, Role.ENGINEER)
SUPERVISOR = Actor(4, Role.SUPERVISOR)
STRANGER_REPORTER = Actor(5, Role.REPORTER)


def allowed(actor: Actor, action: Action) -> bool:
    return may(actor, action, reporter_id=1, assignee_id=2)


def test_engineer_steps_belong_to_the_assignee() -> None:
    for action in (Action.ACCEPT, Action.ARRIVE, Action.RESOLVE, Action.TRANSFER):
        assert allowed(ENGINEER, action)
        assert not allowed(OTHER_ENGINEER, action)
        assert not allowed(REPORTER, action), "a ward user pressing an engineer's button"


def test_reporter_steps_belong_to_the_reporter() -> None:
    for action in (Action.CONFIRM, Action.REOPEN, Action.CANCEL):
        assert allowed(REPORTER, action)
        assert not allowed(STRANGER_REPORTER, action)
        assert not allowed(ENGINEER, action)


def test_supervisors_may_step_in_but_only_the_system_auto_closes() -> None:
    assert all(allowed(SUPERVISOR, a) for a in Action if a is not Action.AUTO_CLOSE)
    assert not allowed(SUPERVISOR, Action.AUTO_CLOSE)
    assert allowed(SYSTEM, Action.AUTO_CLOSE)
    assert allowed(SYSTEM, Action.ASSIGN)
    assert not allowed(SYSTEM, Action.CONFIRM)


def test_buttons_offered_are_legal_in_their_state() -> None:
    for table in (ENGINEER_BUTTONS, HELPER_BUTTONS, REPORTER_BUTTONS):
        for status, buttons in table.items():
            for button in buttons:
                if isinstance(button, Action):
                    assert next_status(1, button, status)
                else:
                    assert Tool(button) in Tool


def test_helpers_work_the_job_but_only_the_assignee_hands_it_on() -> None:
    helper = Actor(staff_id=3, role=Role.ENGINEER)
    people = {"reporter_id": 1, "assignee_id": 2, "helper_ids": frozenset({3})}
    for action in (Action.ARRIVE, Action.RESOLVE, Action.SEND_OUT, Action.RECEIVE):
        assert may(helper, action, **people)
    for action in (Action.ACCEPT, Action.TRANSFER, Action.CONFIRM, Action.CANCEL):
        assert not may(helper, action, **people)
    assert may_use(helper, Tool.LEND, assignee_id=2, helper_ids=frozenset({3}))
    assert not may_use(helper, Tool.HELPER, assignee_id=2, helper_ids=frozenset({3}))
    stranger = Actor(staff_id=4, role=Role.ENGINEER)
    assert not may(stranger, Action.RESOLVE, **people)
    assert not may_use(stranger, Tool.LEND, assignee_id=2, helper_ids=frozenset({3}))


def test_inspection_tickets_have_no_reporter_to_confirm_or_cancel() -> None:
    reporter = Actor(staff_id=1, role=Role.REPORTER)
    for action in (Action.CONFIRM, Action.CANCEL, Action.REOPEN):
        assert not may(reporter, action, reporter_id=None, assignee_id=2)
