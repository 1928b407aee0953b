"""Dispatch choice and queue order: zone, load, priority, ties, nobody on duty."""

from datetime import UTC, datetime, timedelta

from bot.dispatch.policy import (
    EngineerSnapshot,
    QueueItem,
    choose_engineer,
    load_of,
    order_queue,
    places,
)
from bot.domain.enums import Urgency

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def eng(staff_id: int, *zones: str, on_duty: bool = True, **kw: object) -> EngineerSnapshot:
    return EngineerSnapshot(staff_id, frozenset(zones), on_duty, **kw)  # type: ignore[arg-type]


def test_zone_engineer_beats_a_less_loaded_one_elsewhere() -> None:
    team = [eng(1, "A", load=3.0, open_count=3), eng(2, "B", load=0.0)]
    assert choose_engineer(team, "A").staff_id == 1  # type: ignore[union-attr]


def test_lowest_load_in_zone_wins() -> None:
    team = [eng(1, "A", load=4.0, open_count=1), eng(2, "A", load=2.0, open_count=2)]
    assert choose_engineer(team, "A").staff_id == 2  # type: ignore[union-attr]


def test_load_weighs_urgency() -> None:
    one_critical = load_of([Urgency.CRITICAL])
    three_normal = load_of([Urgency.NORMAL] * 3)
    assert one_critical > three_normal
    team = [
        eng(1, "A", load=one_critical, open_count=1),
        eng(2, "A", load=three_normal, open_count=3),
    ]
    assert choose_engineer(team, "A").staff_id == 2  # type: ignore[union-attr]


def test_empty_zone_falls_back_to_least_loaded_anywhere() -> None:
    team = [eng(1, "A", load=2.0), eng(2, "B", load=1.0), eng(3, "C", on_duty=False)]
    assert choose_engineer(team, "C").staff_id == 2  # type: ignore[union-attr]
    assert choose_engineer(team, None).staff_id == 2  # type: ignore[union-attr]


def test_off_duty_engineers_are_never_chosen() -> None:
    team = [eng(1, "A", on_duty=False), eng(2, "B", load=9.0)]
    assert choose_engineer(team, "A").staff_id == 2  # type: ignore[union-attr]


def test_nobody_on_duty_gives_none() -> None:
    assert choose_engineer([eng(1, "A", on_duty=False)], "A") is None
    assert choose_engineer([], "A") is None


def test_exclude_skips_the_engineer_handing_back() -> None:
    team = [eng(1, "A"), eng(2, "B", load=5.0)]
    assert choose_engineer(team, "A", exclude=frozenset({1})).staff_id == 2  # type: ignore[union-attr]
    assert choose_engineer([eng(1, "A")], "A", exclude=frozenset({1})) is None


def test_ties_go_to_fewer_tickets_then_longest_idle_then_lowest_id() -> None:
    fewer = [eng(1, "A", load=2.0, open_count=2), eng(2, "A", load=2.0, open_count=1)]
    assert choose_engineer(fewer, "A").staff_id == 2  # type: ignore[union-attr]
    idle = [
        eng(1, "A", last_assigned_at=T0),
        eng(2, "A", last_assigned_at=T0 - timedelta(hours=1)),
    ]
    assert choose_engineer(idle, "A").staff_id == 2  # type: ignore[union-attr]
    never = [eng(1, "A", last_assigned_at=T0), eng(2, "A")]
    assert choose_engineer(never, "A").staff_id == 2  # type: ignore[union-attr]
    same = [eng(7, "A"), eng(3, "A")]
    assert choose_engineer(same, "A").staff_id == 3  # type: ignore[union-attr]


def item(ticket_id: int, urgency: Urgency, minutes: int, priority: bool = False) -> QueueItem:
    return QueueItem(ticket_id, priority, urgency, T0 + timedelta(minutes=minutes))


def test_queue_order_priority_then_urgency_then_age() -> None:
    items = [
        item(1, Urgency.NORMAL, 0),
        item(2, Urgency.CRITICAL, 5),
        item(3, Urgency.LOW, 1, priority=True),
        item(4, Urgency.NORMAL, -5),
        item(5, Urgency.HIGH, 2, priority=True),
    ]
    assert [i.ticket_id for i in order_queue(items)] == [5, 3, 2, 4, 1]


def test_same_time_orders_by_ticket_number() -> None:
    assert [
        i.ticket_id for i in order_queue([item(9, Urgency.LOW, 0), item(8, Urgency.LOW, 0)])
    ] == [8, 9]


def test_position_counts_tickets_ahead() -> None:
    assert places([5, 3, 2]) == {5: 0, 3: 1, 2: 2}
