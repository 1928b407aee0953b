"""Risk-based ETAs: deadlines, the queue simulation and the service-time fit as pure functions, a
calibration study on a simulated hospital where the truth is known, and the service over a real
database."""

import math
import random
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.enums import TicketStatus, Urgency
from bot.domain.repairs import VendorResult
from bot.domain.ticket_flow import Action
from bot.models import Staff, Ticket
from bot.risk.service_times import (
    DEFAULT_PARAMS,
    Params,
    ServiceTimes,
    estimate_service_times,
    work_minutes,
)
from bot.risk.simulate import (
    STAND_IN_ID,
    Calibration,
    EngineerState,
    OpenJob,
    Queued,
    RiskReport,
    _apart,
    _serve_by_pool,
    _serve_in_turn,
    calibration,
    extra_engineer,
    move_engineer,
    normal_quantile,
    quantiles,
    residual_minutes,
    resolve_deadline,
    simulate,
    with_extra_engineer,
    with_moved_engineer,
)
from bot.services.jobs import JobService
from bot.services.risk import RiskService
from bot.services.tickets import TicketService
from bot.sla.deadlines import TicketClock
from bot.sla.policy import SlaPolicy, parse_policy
from tests.conftest import FakeClock
from tests.test_ticket_service import nurse_in, on_duty, person

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
S = TicketStatus


def policy(repair: str = "4h") -> SlaPolicy:
    """Accept in 15m (3m in a priority department), repair in `repair` (2h when urgency is high)."""
    tables = [
        f'[urgency.{u.value}]\naccept = "15m"\nrepair = "{"2h" if u is Urgency.HIGH else repair}"\n'
        'sent_out = "7d"\nloan = "14d"\nescalate_after = "15m"\n'
        for u in Urgency
    ]
    return parse_policy("".join(tables) + '[priority]\naccept = "3m"\n')


POLICY = policy()
THIRTY = ServiceTimes(overall=(math.log(30.0), 0.05))
"""Jobs of about 30 minutes, nearly fixed: queue effects show without noise."""


def job(
    ticket_id: int,
    *,
    zone: str | None = "A",
    engineer: int | None = None,
    started: bool = False,
    elapsed: float = 0.0,
    priority: bool = False,
    urgency: Urgency = Urgency.NORMAL,
    age: float = 0.0,
    deadline: float = 600.0,
    device: str | None = "pc",
    fault: str | None = "general",
) -> OpenJob:
    """A job reported `age` minutes before T0, due `deadline` minutes after it."""
    return OpenJob(
        ticket_id=ticket_id,
        engineer_id=engineer,
        zone=zone,
        started=started,
        elapsed_minutes=elapsed,
        priority=priority,
        urgency=urgency,
        created_at=T0 - timedelta(minutes=age),
        deadline=T0 + timedelta(minutes=deadline),
        device_type=device,
        fault_type=fault,
    )


def engineer(staff_id: int, *zones: str, on_duty: bool = True) -> EngineerState:
    return EngineerState(staff_id, frozenset(zones), on_duty)


def run(
    jobs: Sequence[OpenJob],
    engineers: Sequence[EngineerState],
    times: ServiceTimes = THIRTY,
    seed: int = 1,
    replications: int = 2000,
) -> RiskReport:
    return simulate(jobs, engineers, times, T0, replications, np.random.default_rng(seed))


def minutes(report: RiskReport, ticket_id: int) -> float:
    """The median ETA in minutes after T0."""
    return (report.tickets[ticket_id].eta_p50 - T0).total_seconds() / 60.0


# --- deadlines -----------------------------------------------------------------------------------


def ticket_clock(status: TicketStatus, **kw: object) -> TicketClock:
    values: dict[str, object] = {
        "status": status,
        "urgency": Urgency.NORMAL,
        "fault_type": None,
        "device_type": None,
        "priority": False,
        "assigned_at": None,
        "accepted_at": None,
        **kw,
    }
    return TicketClock(**values)  # type: ignore[arg-type]


def test_resolve_deadline_adds_the_stages_still_ahead() -> None:
    assigned, accepted = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    accept_and_repair, repair = timedelta(hours=4, minutes=15), timedelta(hours=4)

    def deadline(status: TicketStatus, since: datetime = T0, **kw: object) -> datetime | None:
        return resolve_deadline(POLICY, ticket_clock(status, **kw), since)

    assert deadline(S.NEW) == T0 + accept_and_repair
    reopened = T0 + timedelta(days=1)
    assert deadline(S.REOPENED, reopened) == reopened + accept_and_repair
    assert deadline(S.ASSIGNED, assigned_at=assigned) == assigned + accept_and_repair
    priority = deadline(S.ASSIGNED, assigned_at=assigned, priority=True, urgency=Urgency.HIGH)
    assert priority == assigned + timedelta(hours=2, minutes=3)
    for status in (S.ACCEPTED, S.ON_SITE):
        assert deadline(status, assigned_at=assigned, accepted_at=accepted) == accepted + repair
    back = T0 + timedelta(days=2)
    returned = deadline(S.ACCEPTED, accepted_at=accepted, sent_out_at=accepted, back_at=back)
    assert returned == back + repair, "the repair clock restarts when the device is back"
    for status in (S.SENT_OUT, S.RESOLVED, S.CLOSED, S.CANCELLED):
        assert deadline(status, accepted_at=accepted) is None


def test_resolve_deadline_uses_the_policy_overrides() -> None:
    text = "".join(
        f'[urgency.{u.value}]\naccept = "15m"\nrepair = "4h"\nsent_out = "7d"\nloan = "14d"\n'
        'escalate_after = "15m"\n'
        for u in Urgency
    )
    kiosk = parse_policy(
        text + '[fault_type.network]\nrepair = "1h"\n[asset_type.kiosk]\naccept = "5m"\n'
    )
    clock = ticket_clock(S.ASSIGNED, assigned_at=T0, device_type="kiosk", fault_type="network")
    assert resolve_deadline(kiosk, clock, T0) == T0 + timedelta(hours=1, minutes=5)


# --- the queue simulation ------------------------------------------------------------------------


def test_queue_runs_priority_departments_then_urgency_then_age() -> None:
    jobs = [
        job(1, age=50),
        job(2, age=10, urgency=Urgency.CRITICAL),
        job(3, age=5, priority=True, urgency=Urgency.LOW),
        job(4, age=60, urgency=Urgency.LOW),
        job(5, age=30, urgency=Urgency.CRITICAL),
    ]
    report = run(jobs, [engineer(1, "A")])
    by_eta = sorted(report.tickets, key=lambda t: report.tickets[t].eta_p50)
    assert by_eta == [3, 5, 2, 1, 4]
    assert [round(minutes(report, t) / 30) for t in by_eta] == [1, 2, 3, 4, 5]


def test_accepted_jobs_stay_with_their_engineer_and_come_first() -> None:
    jobs = [
        job(1, urgency=Urgency.CRITICAL, age=90),
        job(2, engineer=1, started=True, urgency=Urgency.LOW, age=10),
        job(3, engineer=1, started=True, urgency=Urgency.NORMAL, age=20),
    ]
    report = run(jobs, [engineer(1, "A"), engineer(2, "B")])
    assert round(minutes(report, 3)) == 30, "accepted jobs in queue order, before new work"
    assert round(minutes(report, 2)) == 60
    assert round(minutes(report, 1)) == 90, "the zone B engineer does not take zone A work"
    idle = run(jobs, [engineer(1, "A"), engineer(2, "A")])
    assert round(minutes(idle, 1)) == 30, "another free engineer of the zone takes it at once"


def test_a_zone_with_nobody_on_duty_falls_back_to_everyone() -> None:
    roster = [engineer(1, "A"), engineer(2, "B"), engineer(3, "C", on_duty=False)]
    jobs = [
        job(1, zone="A", age=3),
        job(2, zone="A", age=2),
        job(3, zone="C", age=1),
        job(4, zone=None, age=0),
    ]
    report = run(jobs, roster)
    assert round(minutes(report, 1)) == 30 and round(minutes(report, 2)) == 60
    assert round(minutes(report, 3)) == 30, "zone C has nobody on duty: the idle B engineer"
    assert round(minutes(report, 4)) == 60
    assert report.on_duty == 2


def test_an_accepted_job_of_an_engineer_off_duty_is_handed_over() -> None:
    jobs = [job(1, engineer=7, started=True, elapsed=10, age=30), job(2, age=5)]
    report = run(jobs, [engineer(7, "A", on_duty=False), engineer(8, "B")])
    assert round(minutes(report, 1)) == 20, "the rest of the job, done by whoever is on duty"
    assert round(minutes(report, 2)) == 50


def test_an_idle_engineer_makes_a_generous_deadline_safe_and_an_impossible_one_hopeless() -> None:
    times = ServiceTimes()  # no history: a 40-minute median with log-sd 0.8
    roster = [engineer(1, "A")]
    assert run([job(1, deadline=8 * 60)], roster, times).tickets[1].otp > 0.99
    assert run([job(1, deadline=1)], roster, times).tickets[1].otp < 0.01
    assert run([job(1, deadline=-5)], roster, times).tickets[1].otp == 0.0
    even = run([job(1, deadline=40)], roster, times, replications=20_000).tickets[1]
    assert even.otp == pytest.approx(0.5, abs=0.02), "the deadline at the median"
    assert (even.eta_p50 - T0) / timedelta(minutes=1) == pytest.approx(40, rel=0.05)
    p90 = 40 * math.exp(0.8 * statistics.NormalDist().inv_cdf(0.9))
    assert (even.eta_p90 - T0) / timedelta(minutes=1) == pytest.approx(p90, rel=0.05)


def test_with_nobody_on_duty_a_stand_in_arrives_now() -> None:
    jobs = [job(1, deadline=-1), job(2, deadline=8 * 60, age=5), job(3, engineer=4, started=True)]
    for roster in ([], [engineer(4, "A", on_duty=False)]):
        report = run(jobs, roster, ServiceTimes())
        assert report.on_duty == 0
        assert report.tickets[1].otp == 0.0, "a deadline already past stays missed"
        assert report.tickets[2].otp > 0.9
        assert report.delay_possibility == pytest.approx(
            sum(1 - r.otp for r in report.tickets.values()) / 3
        )
    assert run([], []).delay_possibility == 0.0


def scenario(rng: random.Random, zones: str = "AB") -> tuple[list[OpenJob], list[EngineerState]]:
    """Disjoint single-zone teams, every zone staffed: the case where more hands never hurt."""
    roster = [
        engineer(10 * z + k, zone) for z, zone in enumerate(zones) for k in range(rng.randint(1, 3))
    ]
    jobs = []
    for ticket_id in range(rng.randint(3, 15)):
        holder = rng.choice(roster)
        started = rng.random() < 0.3
        jobs.append(
            job(
                ticket_id,
                zone=next(iter(holder.zones)),
                engineer=holder.staff_id if started else None,
                started=started,
                elapsed=rng.uniform(0, 60),
                priority=rng.random() < 0.2,
                urgency=rng.choice(list(Urgency)),
                age=rng.uniform(0, 120),
                deadline=rng.uniform(-10, 300),
                device=rng.choice(["pc", "printer"]),
            )
        )
    return jobs, roster


def test_more_engineers_never_lower_the_otp() -> None:
    rng = random.Random(3)
    times = ServiceTimes(by_device={"pc": (math.log(30), 0.6), "printer": (math.log(50), 0.9)})
    for _ in range(30):
        jobs, roster = scenario(rng)
        before = run(jobs, roster, times, replications=500)
        after = run(jobs, with_extra_engineer(roster, rng.choice("AB")), times, replications=500)
        assert after.delay_possibility <= before.delay_possibility
        for ticket_id, risk in before.tickets.items():
            assert after.tickets[ticket_id].otp >= risk.otp
            assert after.tickets[ticket_id].eta_p90 <= risk.eta_p90 + timedelta(milliseconds=1)


def test_an_engineer_for_an_uncovered_zone_takes_its_tickets_alone() -> None:
    """The documented exception: zone C's work was shared by the whole team, now one has it."""
    jobs = [job(n, zone="C", age=10 - n, deadline=45) for n in range(4)]
    team = [engineer(1, "A"), engineer(2, "B")]
    before, after = run(jobs, team), run(jobs, with_extra_engineer(team, "C"))
    assert after.delay_possibility > before.delay_possibility


def test_what_if_rosters() -> None:
    team = [engineer(1, "A"), engineer(2, "B", on_duty=False)]
    grown = with_extra_engineer(team, "B")
    assert grown[:2] == team and grown[2] == EngineerState(STAND_IN_ID - 1, frozenset("B"), True)
    assert with_extra_engineer(grown, "A")[3].staff_id == STAND_IN_ID - 2
    assert extra_engineer("B")(team) == grown
    moved = with_moved_engineer(team, 1, "B")
    assert moved == [engineer(1, "B"), team[1]] == move_engineer(1, "B")(team)
    with pytest.raises(ValueError, match="engineer 9"):
        with_moved_engineer(team, 9, "B")
    jobs = [job(1, engineer=1, started=True, elapsed=5, zone="A"), job(2, zone="A")]
    report = run(jobs, moved)
    assert round(minutes(report, 1)) == 25, "the accepted job stays with the moved engineer"
    assert round(minutes(report, 2)) == 55, "zone A now has nobody: the moved engineer falls back"


@pytest.mark.parametrize("seed", range(5))
def test_serving_pool_by_pool_gives_exactly_the_done_times_of_serving_in_turn(seed: int) -> None:
    """The fast way for pools that share nobody against the general one, on the same draws:
    pools of one to four engineers, engineers busy with started jobs or idle (ties)."""
    rng = np.random.default_rng(seed)
    engineers, replications = 10, 300
    pools = [(0,), (1, 2), (3, 4, 5), (6, 7, 8, 9)]
    queued: Queued = [(j, pools[int(rng.integers(len(pools)))]) for j in range(120)]
    service = rng.lognormal(3.5, 0.8, (len(queued), replications))
    free = rng.lognormal(3.0, 1.0, (engineers, replications))
    free[rng.random(free.shape) < 0.3] = 0.0  # idle engineers, tied at zero
    in_turn, by_pool = np.empty_like(service), np.empty_like(service)
    _serve_in_turn(queued, free.copy(), service, in_turn)
    _serve_by_pool(queued, free.copy(), service, by_pool)
    assert np.array_equal(in_turn, by_pool)


def test_only_pools_that_share_nobody_are_served_pool_by_pool() -> None:
    assert _apart({(0,), (1, 2), (3, 4, 5)})
    assert not _apart({(0, 1), (1, 2)})
    assert not _apart({(0,), (0, 1, 2)})  # a zone with nobody of its own falls back to everyone


def test_the_same_seed_gives_the_same_report() -> None:
    jobs, roster = scenario(random.Random(5))
    times = ServiceTimes()
    assert run(jobs, roster, times, seed=11) == run(jobs, roster, times, seed=11)
    assert run(jobs, roster, times, seed=11) != run(jobs, roster, times, seed=12)
    with pytest.raises(ValueError, match="replications"):
        run(jobs, roster, times, replications=0)


@pytest.mark.parametrize("shape", [(200, 500), (3, 1), (4, 2), (1, 7)])
def test_quantiles_are_numpys_from_one_sort(shape: tuple[int, int]) -> None:
    rows = np.random.default_rng(sum(shape)).lognormal(3.0, 1.0, shape)
    levels = (0.0, 0.25, 0.5, 0.9, 0.999, 1.0)
    assert np.allclose(quantiles(rows, levels), np.quantile(rows, levels, axis=1), rtol=1e-12)


# --- started jobs: the residual service time -----------------------------------------------------


def test_normal_quantile_matches_the_standard_library() -> None:
    p = np.concatenate([np.logspace(-300, -2, 200), np.linspace(0.01, 0.99, 197)])
    p = np.concatenate([p, 1 - np.logspace(-12, -2, 50)])
    exact = np.array([statistics.NormalDist().inv_cdf(float(x)) for x in p])
    assert np.allclose(normal_quantile(p), exact, rtol=2e-9, atol=2e-9)


def test_a_started_job_takes_the_rest_of_a_job_that_has_lasted_this_long() -> None:
    mu, sigma, elapsed = math.log(40), 0.8, 60.0
    rng = np.random.default_rng(7)
    whole = rng.lognormal(mu, sigma, 2_000_000)
    truth = whole[whole > elapsed] - elapsed  # rejection: the conditional law by definition
    drawn = residual_minutes(mu, sigma, elapsed, rng.random(200_000))
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(drawn, q) == pytest.approx(np.quantile(truth, q), rel=0.03)
    fresh = residual_minutes(mu, sigma, 0.0, rng.random(200_000))
    assert np.median(fresh) == pytest.approx(40, rel=0.02), "not started: the whole job"
    stuck = residual_minutes(mu, sigma, 40 * 200, rng.random(1000))
    assert np.all(np.isfinite(stuck)) and np.all(stuck >= 0) and np.median(stuck) > 100
    held = job(1, engineer=1, started=True, elapsed=elapsed)
    report = run([held], [engineer(1, "A")], ServiceTimes(overall=(mu, sigma)), replications=20_000)
    assert minutes(report, 1) == pytest.approx(np.median(truth), rel=0.05), "simulate uses it"


# --- service times -------------------------------------------------------------------------------


def test_no_history_gives_the_default() -> None:
    times = estimate_service_times([])
    assert times.params("pc", "general") == DEFAULT_PARAMS == (math.log(40), 0.8)
    assert times.samples == 0
    assert estimate_service_times([("pc", "general", 0.0), ("pc", "x", -3.0)]).samples == 0


def test_a_rich_group_keeps_its_own_fit() -> None:
    rng = np.random.default_rng(1)
    samples = [("pc", "general", float(m)) for m in rng.lognormal(math.log(60), 0.5, 3000)]
    mu, sigma = estimate_service_times(samples).params("pc", "general")
    assert mu == pytest.approx(math.log(60), abs=0.03)
    assert sigma == pytest.approx(0.5, abs=0.03)


def test_a_sparse_group_is_shrunk_toward_its_parent() -> None:
    rng = np.random.default_rng(2)
    printers = [("printer", "general", float(m)) for m in rng.lognormal(math.log(30), 0.4, 400)]
    odd = [("printer", "jam", 300.0), ("printer", "jam", 300.0)]
    times = estimate_service_times([*printers, *odd])
    parent_mu, parent_sigma = times.params("printer", "general")
    mu, sigma = times.params("printer", "jam")
    weight = 2 / (2 + 5)  # two samples against five pseudo-observations of the parent
    device_mu = times.by_device["printer"][0]
    assert mu == pytest.approx(device_mu + weight * (math.log(300) - device_mu))
    assert parent_mu < mu < math.log(300)
    assert sigma > parent_sigma, "a group far from its parent is also less certain"
    assert times.params("printer", "fuser") == times.by_device["printer"], "unseen fault"
    assert times.params("scanner", "general") == times.overall, "unseen device"


def test_work_minutes_leave_out_the_vendor() -> None:
    accepted, resolved = T0, T0 + timedelta(days=3, minutes=90)
    assert work_minutes(accepted, resolved) == pytest.approx(3 * 24 * 60 + 90)
    away, back = T0 + timedelta(minutes=30), T0 + timedelta(days=3, minutes=30)
    assert work_minutes(accepted, resolved, away, back) == pytest.approx(90)
    assert work_minutes(accepted, resolved, away, None) == pytest.approx(3 * 24 * 60 + 90)
    earlier = T0 - timedelta(days=5)
    assert (
        work_minutes(accepted, resolved, earlier, earlier + timedelta(days=1)) == 3 * 24 * 60 + 90
    )


# --- calibration on a simulated hospital ---------------------------------------------------------

DEVICES = ("pc", "printer", "monitor", "kiosk", "label_printer")
FAULTS = ("general", "network", "hardware")
ZONES = "ABC"


def true_service(rng: random.Random) -> dict[tuple[str, str], Params]:
    return {
        (d, f): (math.log(rng.uniform(15, 90)), rng.uniform(0.4, 1.0))
        for d in DEVICES
        for f in FAULTS
    }


def history(
    rng: random.Random, truth: dict[tuple[str, str], Params], size: int
) -> list[tuple[str, str, float]]:
    """Finished jobs, some types common and some rare (as in any hospital)."""
    kinds = list(truth)
    weights = [rng.expovariate(1.0) ** 2 for _ in kinds]
    picks = rng.choices(kinds, weights, k=size)
    return [(d, f, rng.lognormvariate(*truth[d, f])) for d, f in picks]


def random_hospital(
    rng: random.Random, truth: dict[tuple[str, str], Params], size: int
) -> tuple[list[OpenJob], list[EngineerState]]:
    """Engineers in one zone (some in two), some off duty; jobs of random type, age, urgency
    and deadline, some already accepted (also by engineers now off duty)."""
    roster = []
    for staff_id in range(rng.randint(2, 6)):
        zones = {rng.choice(ZONES)} | ({rng.choice(ZONES)} if rng.random() < 0.2 else set())
        roster.append(EngineerState(staff_id + 1, frozenset(zones), rng.random() < 0.8))
    jobs = []
    for ticket_id in range(size):
        kind = rng.choice(list(truth))
        mu, _ = truth[kind]
        holder = rng.choice(roster)
        started = rng.random() < 0.25
        jobs.append(
            job(
                ticket_id,
                zone=rng.choice(ZONES),
                engineer=holder.staff_id if started else None,
                started=started,
                elapsed=rng.uniform(0, 2 * math.exp(mu)) if started else 0.0,
                priority=rng.random() < 0.15,
                urgency=rng.choice(list(Urgency)),
                age=rng.uniform(0, 180),
                deadline=math.exp(rng.uniform(math.log(5), math.log(600))),
                device=kind[0],
                fault=kind[1],
            )
        )
    return jobs, roster


def play_out(
    rng: random.Random,
    jobs: Sequence[OpenJob],
    roster: Sequence[EngineerState],
    truth: dict[tuple[str, str], Params],
) -> dict[int, bool]:
    """One day as it really happens, written independently of `simulate`: plain Python, true
    parameters, started jobs by rejection (a whole job drawn until it outlasts the time spent)."""
    working = [e for e in roster if e.on_duty] or [EngineerState(0, frozenset(), True)]
    free = {e.staff_id: 0.0 for e in working}

    def duration(item: OpenJob) -> float:
        params = truth[str(item.device_type), str(item.fault_type)]
        while True:
            whole = rng.lognormvariate(*params)
            if whole > item.elapsed_minutes:
                return whole - item.elapsed_minutes

    order = sorted(jobs, key=lambda j: (not j.priority, j.urgency.rank, j.created_at, j.ticket_id))
    finished: dict[int, float] = {}
    for item in order:
        if item.started and item.engineer_id in free:
            free[item.engineer_id] += duration(item)
            finished[item.ticket_id] = free[item.engineer_id]
    for item in order:
        if item.ticket_id in finished:
            continue
        team = [e for e in working if item.zone in e.zones] or working
        chosen = min(team, key=lambda e: free[e.staff_id]).staff_id
        free[chosen] += duration(item)
        finished[item.ticket_id] = free[chosen]
    return {
        item.ticket_id: T0 + timedelta(minutes=finished[item.ticket_id]) <= item.deadline
        for item in jobs
    }


def calibration_study(
    seed: int = 2026,
    tickets: int = 2000,
    history_size: int = 1500,
    replications: int = 2000,
    *,
    bias: float = 0.0,
    known: bool = False,
) -> Calibration:
    """Predicted OTPs against one true play-out of each of many independent hospitals (8 tickets
    each). The model is fitted on a simulated history, or given the true parameters (`known`:
    what is left is the simulator's own error); `bias` shifts every fitted log-mean, to check
    that the study notices a wrong model."""
    rng = random.Random(seed)
    truth = true_service(rng)
    fitted = estimate_service_times(history(rng, truth, history_size))
    if known:
        fitted = ServiceTimes(by_key={(d, f): params for (d, f), params in truth.items()})
    if bias:
        fitted = ServiceTimes(
            (fitted.overall[0] + bias, fitted.overall[1]),
            {k: (mu + bias, s) for k, (mu, s) in fitted.by_device.items()},
            {k: (mu + bias, s) for k, (mu, s) in fitted.by_key.items()},
        )
    generator = np.random.default_rng(seed)
    predicted: list[float] = []
    on_time: list[bool] = []
    while len(predicted) < tickets:
        jobs, roster = random_hospital(rng, truth, 8)
        report = simulate(jobs, roster, fitted, T0, replications, generator)
        outcome = play_out(rng, jobs, roster, truth)
        predicted.extend(report.tickets[j.ticket_id].otp for j in jobs)
        on_time.extend(outcome[j.ticket_id] for j in jobs)
    return calibration(predicted, on_time)


ECE_LIMIT = 0.05
"""A bin of n tickets at OTP p misses by sqrt(2/pi) * sqrt(p(1-p)/n) on average from sampling
alone, so 2,000 tickets spread as here have an ECE of ~0.016 even with the true parameters (at
most 0.028 were they all near 0.5); fitting 1,500 history jobs, some types seen twice, adds up to
~0.02 (0.011-0.037 over ten seeds). 0.05 leaves that room, and medians 40% short score 0.07-0.11."""


def test_predicted_otp_matches_how_often_tickets_are_really_on_time() -> None:
    study = calibration_study()
    assert sum(b.count for b in study.bins) >= 2000
    assert len(study.bins) == 10, "the hospitals spread over every bin"
    assert study.ece < ECE_LIMIT, study
    optimistic = calibration_study(bias=math.log(0.6))
    assert optimistic.ece > ECE_LIMIT, "the study notices medians 40% too short"


def test_calibration_table() -> None:
    table = calibration([0.05, 0.15, 0.15, 1.0, 0.95], [False, True, False, True, True], bins=10)
    assert [(b.low, b.count) for b in table.bins] == [(0.0, 1), (0.1, 2), (0.9, 2)]
    assert table.bins[1].observed == 0.5 and table.bins[2].predicted == pytest.approx(0.975)
    assert table.ece == pytest.approx((0.05 + 2 * 0.35 + 2 * 0.025) / 5)
    with pytest.raises(ValueError, match="same length"):
        calibration([0.5], [True, False])


# --- the service over a database -----------------------------------------------------------------


async def new_ticket(
    tickets: TicketService,
    reporter: Staff,
    text: str,
    urgency: Urgency = Urgency.NORMAL,
    device_type: str | None = None,
) -> Ticket:
    ticket = (await tickets.report(reporter, text, urgency, device_type=device_type)).ticket
    assert ticket is not None
    return ticket


async def test_snapshot_lists_open_work_and_the_roster(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets = TicketService(hospital, clock)
    jobs = JobService(tickets)
    await on_duty(tickets, hospital, 9001)
    ward, engineer_a = await person(hospital, 5001), await person(hospital, 9001)
    er = await nurse_in(hospital, clock, 7010, "응급실")
    started = await new_ticket(tickets, ward, "PC", device_type="pc")
    away = await new_ticket(tickets, ward, "프린터", device_type="printer")
    done = await new_ticket(tickets, ward, "모니터")
    clock.advance(minutes=5)
    for ticket in (started, away, done):
        await tickets.act(engineer_a, ticket.id, Action.ACCEPT)
    await jobs.send_out(engineer_a, away.id, "vendor", None)
    await tickets.act(engineer_a, done.id, Action.RESOLVE, "교체")
    clock.advance(minutes=20)
    urgent = await new_ticket(tickets, er, "응급실 PC", Urgency.HIGH)
    await tickets.set_duty(engineer_a, False)  # nobody else: the assigned job stays with them
    clock.advance(minutes=10)
    waiting = await new_ticket(tickets, ward, "키보드")
    assert waiting.status is S.NEW and urgent.status is S.ASSIGNED
    clock.advance(minutes=5)

    risk = RiskService(hospital, clock, POLICY)
    open_jobs, roster = await risk.snapshot()
    minute = timedelta(minutes=1)
    start = datetime(2026, 11, 23, tzinfo=UTC)
    assert [j.ticket_id for j in open_jobs] == [started.id, urgent.id, waiting.id]
    first, second, third = open_jobs
    assert (first.engineer_id, first.started, first.elapsed_minutes) == (engineer_a.id, True, 35)
    assert (first.zone, first.device_type, first.fault_type) == ("A", "pc", "general")
    assert first.deadline == start + 5 * minute + timedelta(hours=4)
    assert (second.engineer_id, second.started, second.priority) == (engineer_a.id, False, True)
    assert second.deadline == start + 25 * minute + 3 * minute + timedelta(hours=2)
    assert (third.engineer_id, third.urgency, third.created_at) == (
        None,
        Urgency.NORMAL,
        start + 35 * minute,
    )
    assert third.deadline == start + 35 * minute + timedelta(hours=4, minutes=15)
    engineer_b = await person(hospital, 9002)
    assert roster == [
        EngineerState(engineer_a.id, frozenset({"A"}), False),
        EngineerState(engineer_b.id, frozenset({"B"}), False),
    ]
    report = await risk.assess(seed=1, replications=200)
    assert report.on_duty == 0 and set(report.tickets) == {started.id, urgent.id, waiting.id}


async def test_a_reopened_ticket_waits_for_anyone(hospital: AsyncSession, clock: FakeClock) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001)
    ward, engineer_a = await person(hospital, 5001), await person(hospital, 9001)
    ticket = await new_ticket(tickets, ward, "PC")
    await tickets.act(engineer_a, ticket.id, Action.ACCEPT)
    await tickets.act(engineer_a, ticket.id, Action.RESOLVE, "재부팅")
    await tickets.set_duty(engineer_a, False)
    clock.advance(hours=1)
    await tickets.act(ward, ticket.id, Action.REOPEN)
    assert ticket.status is S.REOPENED and ticket.assignee_id == engineer_a.id
    (reopened,), _ = await RiskService(hospital, clock, POLICY).snapshot()
    assert (reopened.engineer_id, reopened.started) == (None, False)
    assert reopened.deadline == clock.now() + timedelta(hours=4, minutes=15)


async def test_otp_follows_the_deadline(hospital: AsyncSession, clock: FakeClock) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001)
    ward, engineer_a = await person(hospital, 5001), await person(hospital, 9001)
    ticket = await new_ticket(tickets, ward, "PC")
    await tickets.act(engineer_a, ticket.id, Action.ACCEPT)
    clock.advance(minutes=30)
    otp = {}
    for repair in ("1d", "1h", "20m"):
        report = await RiskService(hospital, clock, policy(repair)).assess(seed=3)
        otp[repair] = report.tickets[ticket.id].otp
        assert report.on_duty == 1
    assert otp["1d"] > 0.95 > otp["1h"] > 0.1
    assert otp["20m"] == 0.0, "the deadline has already passed"


async def test_service_times_come_from_the_recent_history(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets = TicketService(hospital, clock)
    jobs = JobService(tickets)
    await on_duty(tickets, hospital, 9001)
    ward, engineer_a = await person(hospital, 5001), await person(hospital, 9001)

    async def job_of(minutes: int, vendor_days: int = 0) -> None:
        ticket = await new_ticket(tickets, ward, "프린터", device_type="printer")
        await tickets.act(engineer_a, ticket.id, Action.ACCEPT)
        clock.advance(minutes=minutes / 2)
        if vendor_days:
            await jobs.send_out(engineer_a, ticket.id, "vendor", None)
            clock.advance(days=vendor_days)
            await jobs.receive(engineer_a, ticket.id, VendorResult.REPAIRED)
        clock.advance(minutes=minutes / 2)
        await tickets.act(engineer_a, ticket.id, Action.RESOLVE, "수리")

    await job_of(600)  # long ago: outside the 90-day window
    clock.advance(days=100)
    await job_of(60)
    await job_of(60, vendor_days=3)  # three days at the vendor are not the engineer's work
    await job_of(60)
    await tickets.report(ward, "미해결", device_type="printer")  # open: no sample yet
    times = await RiskService(hospital, clock, POLICY).service_times()
    assert times.samples == 3
    expected = estimate_service_times([("printer", "general", 60.0)] * 3)
    assert times.params("printer", "general") == pytest.approx(
        expected.params("printer", "general")
    )
    everything = await RiskService(hospital, clock, POLICY).service_times(days=365)
    assert everything.samples == 4


async def test_assess_never_flushes(hospital: AsyncSession, clock: FakeClock) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001)
    await tickets.report(await person(hospital, 5001), "PC")
    engineer_a = await person(hospital, 9001)
    engineer_a.name = "unsaved"
    report = await RiskService(hospital, clock, POLICY).assess(seed=1, replications=100)
    assert len(report.tickets) == 1
    assert engineer_a in hospital.dirty, "the caller's pending change was not flushed"


async def test_what_if_an_engineer_is_added_or_moved(
    hospital: AsyncSession, clock: FakeClock
) -> None:
    tickets = TicketService(hospital, clock)
    await on_duty(tickets, hospital, 9001, 9002)
    ward = await person(hospital, 5001)
    for n in range(6):
        await tickets.report(ward, f"PC {n}")
        clock.advance(minutes=1)
    risk = RiskService(hospital, clock, POLICY)
    today, helped = await risk.compare(extra_engineer("A"), seed=4, replications=500)
    assert helped.delay_possibility < today.delay_possibility
    assert today == await risk.assess(seed=4, replications=500)
    assert helped == await risk.assess(what_if=extra_engineer("A"), seed=4, replications=500)
    engineer_b = await person(hospital, 9002)
    _, moved = await risk.compare(move_engineer(engineer_b.id, "A"), seed=4, replications=500)
    assert moved.delay_possibility < today.delay_possibility
