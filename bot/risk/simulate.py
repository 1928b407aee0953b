"""On-time probability (OTP) of every open ticket, by Monte Carlo simulation of the engineers'
queues, as in emergency-department risk-based scheduling.

Model
- Resolve deadline (`resolve_deadline`), from the SLA policy: accepted or on site: repair_from +
  repair limit; assigned: assigned_at + accept limit + repair limit; waiting (new, reopened):
  reported (or reopened) + accept limit + repair limit. Tickets at a vendor take no engineer time
  and are left out, as are resolved and closed ones.
- Service time: lognormal per device and fault type (`bot.risk.service_times`).
- Queues run work-conserving, as a dispatcher would: an engineer on duty first finishes the jobs
  they have already accepted, one after another in queue order, each taking the residual of its
  service time given the minutes already spent since repair_from (for an engineer holding several
  accepted jobs this is pessimistic: each counts the whole time since its own accept as work).
  Every job not started yet (assigned or waiting, whoever it is assigned to now) is then taken in
  queue order (`queue_key`: priority departments, urgency, age) by whichever on-duty engineer of
  its zone is free first, or by any engineer on duty when its zone has nobody. An accepted job
  whose engineer is off duty is handed over the same way, with its residual time.
- Nobody on duty at all: one engineer covering every zone is assumed to arrive now. Deadlines
  already past get OTP 0, the others a best case, since no roster says when someone really
  comes; `RiskReport.on_duty == 0` marks such a report.
- Each of R replications draws every service time once, in an order fixed by the jobs alone: two
  rosters compared with the same seed see the same work (common random numbers), so the
  difference in delay possibility is the roster's, not noise.

With zones, more engineers are not always better for everyone: an engineer added to a zone that
had nobody on duty takes that zone's tickets alone, where before the whole team shared them.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from bot.dispatch.policy import QueueItem, queue_key
from bot.domain.enums import TicketStatus, Urgency
from bot.risk.service_times import Floats, ServiceTimes
from bot.sla.deadlines import TicketClock
from bot.sla.policy import SlaPolicy, Stage

Roster = Callable[[list["EngineerState"]], list["EngineerState"]]

STARTED_STATUSES = frozenset({TicketStatus.ACCEPTED, TicketStatus.ON_SITE})
WAITING_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.REOPENED})
SIMULATED_STATUSES = STARTED_STATUSES | WAITING_STATUSES | {TicketStatus.ASSIGNED}
"""Tickets that still need engineer time; one at a vendor waits for the vendor instead."""

STAND_IN_ID = 0
"""The engineer assumed to arrive when nobody is on duty (what-if engineers get ids below it)."""
MAX_ETA = timedelta(days=3650)
"""ETAs are capped here, so a freak draw in a heavy tail never overflows a datetime."""


@dataclass(frozen=True)
class EngineerState:
    staff_id: int
    zones: frozenset[str]
    on_duty: bool


@dataclass(frozen=True)
class OpenJob:
    """What the simulation needs to know about one open ticket."""

    ticket_id: int
    engineer_id: int | None
    zone: str | None
    started: bool
    elapsed_minutes: float
    priority: bool
    urgency: Urgency
    created_at: datetime
    deadline: datetime
    device_type: str | None
    fault_type: str | None


@dataclass(frozen=True)
class TicketRisk:
    otp: float
    eta_p50: datetime
    eta_p90: datetime


@dataclass(frozen=True)
class RiskReport:
    tickets: dict[int, TicketRisk]
    delay_possibility: float
    """Mean of 1 - OTP over the simulated tickets: the share of them expected to run late."""
    on_duty: int = 0
    """Engineers on duty in the roster simulated; 0 means the stand-in engineer was assumed."""


def resolve_deadline(
    policy: SlaPolicy, ticket: TicketClock, waiting_since: datetime
) -> datetime | None:
    """When the ticket must be resolved, or None when it needs no engineer time now.

    `waiting_since` is when it was reported, or reopened if it was. A ticket assigned or accepted
    without its stamp (old data) falls back to that time too.
    """

    def limit(stage: Stage) -> timedelta:
        return policy.limit(
            stage,
            ticket.urgency,
            fault_type=ticket.fault_type,
            asset_type=ticket.device_type,
            priority=ticket.priority,
        )

    if ticket.status in STARTED_STATUSES:
        return (ticket.repair_from or waiting_since) + limit(Stage.REPAIR)
    if ticket.status is TicketStatus.ASSIGNED:
        start = ticket.assigned_at or waiting_since
    elif ticket.status in WAITING_STATUSES:
        start = waiting_since
    else:
        return None
    return start + limit(Stage.ACCEPT) + limit(Stage.REPAIR)


def simulate(
    jobs: Sequence[OpenJob],
    engineers: Sequence[EngineerState],
    service_times: ServiceTimes,
    now: datetime,
    replications: int = 1000,
    rng: np.random.Generator | None = None,
) -> RiskReport:
    """OTP and ETAs of every job under the roster `engineers`; see the module docstring."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    rng = rng if rng is not None else np.random.default_rng()
    ordered = sorted(jobs, key=_queue_key)
    service = _draw(ordered, service_times, replications, rng)
    on_duty = [e for e in engineers if e.on_duty]
    working = on_duty or [EngineerState(STAND_IN_ID, frozenset(), on_duty=True)]
    index = {e.staff_id: i for i, e in enumerate(working)}
    holders = [_holder(job, index) for job in ordered]
    free = np.zeros((len(working), replications))
    done = np.empty((len(ordered), replications))
    for j, engineer in enumerate(holders):
        if engineer is not None:
            free[engineer] += service[j]
            done[j] = free[engineer]
    pools: dict[str | None, tuple[int, ...]] = {}
    queued: Queued = []
    for j, job in enumerate(ordered):
        if holders[j] is None:
            if job.zone not in pools:
                in_zone = [i for i, e in enumerate(working) if job.zone in e.zones]
                pools[job.zone] = tuple(in_zone or range(len(working)))
            queued.append((j, pools[job.zone]))
    serve = _serve_by_pool if _apart(set(pools.values())) else _serve_in_turn
    serve(queued, free, service, done)
    return _report(ordered, done, now, len(on_duty))


Queued = list[tuple[int, tuple[int, ...]]]
"""The jobs not started yet, in queue order: (row of `service` and `done`, rows of `free` of the
engineers who may take it)."""


def _serve_in_turn(queued: Queued, free: Floats, service: Floats, done: Floats) -> None:
    """Each job to whichever engineer of its pool is free first, in every replication."""
    columns = np.arange(free.shape[1])
    arrays = {pool: np.array(pool, dtype=np.intp) for pool in {pool for _, pool in queued}}
    for j, key in queued:
        pool = arrays[key]
        if pool.size == 1:
            free[pool[0]] += service[j]
            done[j] = free[pool[0]]
            continue
        waits = free[pool]
        first = waits.argmin(axis=0)  # ties go to the engineer listed first
        done[j] = free[pool[first], columns] = waits[first, columns] + service[j]


def _serve_by_pool(queued: Queued, free: Floats, service: Floats, done: Floats) -> None:
    """`_serve_in_turn` when no engineer is in two pools (each covers one zone, say), about three
    times faster. A pool is then a group of identical servers that no other job touches, so
    what a job meets is only the set of its pool's free times, not who holds which: kept
    sorted in every replication, the first is when the job starts, and its end is merged back
    in by a min/max pass. The done times are exactly `_serve_in_turn`'s."""
    ahead = {pool: np.sort(free[list(pool)], axis=0) for pool in {pool for _, pool in queued}}
    for j, pool in queued:
        times = ahead[pool]
        end = times[0] + service[j]
        done[j] = end
        for i in range(1, len(times)):
            np.minimum(times[i], end, out=times[i - 1])
            np.maximum(times[i], end, out=end)
        times[-1] = end


def _apart(pools: set[tuple[int, ...]]) -> bool:
    """No engineer is in two of these pools."""
    members = [i for pool in pools for i in pool]
    return len(members) == len(set(members))


def _holder(job: OpenJob, index: dict[int, int]) -> int | None:
    """The on-duty engineer (row of `free`) who keeps this job because they already started it."""
    if not job.started or job.engineer_id is None:
        return None
    return index.get(job.engineer_id)


def _queue_key(job: OpenJob) -> tuple[int, int, datetime, int]:
    return queue_key(QueueItem(job.ticket_id, job.priority, job.urgency, job.created_at))


def _draw(
    jobs: Sequence[OpenJob],
    service_times: ServiceTimes,
    replications: int,
    rng: np.random.Generator,
) -> Floats:
    """Service minutes [n, R] (a row per job, contiguous for the queue loop): whole jobs for those
    not started, residuals for the others. Draws depend on the jobs only, never on the roster."""
    params = np.array(
        [service_times.params(job.device_type, job.fault_type) for job in jobs], dtype=np.float64
    ).reshape(len(jobs), 2)
    mu, sigma = params[:, :1], params[:, 1:]
    service: Floats = np.exp(mu + sigma * rng.standard_normal((len(jobs), replications)))
    started = [j for j, job in enumerate(jobs) if job.started]
    uniform = rng.random((len(started), replications))
    for row, j in enumerate(started):
        service[j] = residual_minutes(
            float(mu[j, 0]), float(sigma[j, 0]), jobs[j].elapsed_minutes, uniform[row]
        )
    return service


def residual_minutes(mu: float, sigma: float, elapsed: float, uniform: Floats) -> Floats:
    """Minutes still to go on a lognormal job already `elapsed` minutes in.

    The whole duration is drawn from the lognormal conditioned on exceeding `elapsed`: a uniform
    mapped onto the upper tail (0, P(T > elapsed)] and inverted there, which keeps its precision
    however far into the tail the job already is.
    """
    if elapsed <= 0:
        tail = 1.0
    else:
        tail = 0.5 * math.erfc((math.log(elapsed) - mu) / (sigma * math.sqrt(2.0)))
    upper = np.maximum(tail * (1.0 - uniform), np.finfo(np.float64).tiny)
    total = np.exp(mu - sigma * normal_quantile(upper))
    return np.maximum(total - elapsed, 0.0)


# Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
_A = (
    -39.69683028665376,
    220.9460984245205,
    -275.9285104469687,
    138.3577518672690,
    -30.66479806614716,
    2.506628277459239,
)
_B = (
    -54.47609879822406,
    161.5858368580409,
    -155.6989798598866,
    66.80131188771972,
    -13.28068155288572,
    1.0,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996, 3.754408661907416, 1.0)
_LOW = 0.02425


def _polyval(coefficients: Sequence[float], x: Floats) -> Floats:
    out = np.zeros_like(x)
    for c in coefficients:
        out = out * x + c
    return out


def normal_quantile(p: Floats) -> Floats:
    """The standard normal quantile of each p in (0, 1); NumPy has no ndtri and SciPy is not a
    dependency."""
    p = np.asarray(p, dtype=np.float64)
    out = np.empty_like(p)
    low, high = p < _LOW, p > 1.0 - _LOW
    mid = ~(low | high)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = _polyval(_A, r) * q / _polyval(_B, r)
    for mask, sign, tail in ((low, 1.0, p[low]), (high, -1.0, 1.0 - p[high])):
        t = np.sqrt(-2.0 * np.log(tail))
        out[mask] = sign * _polyval(_C, t) / _polyval(_D, t)
    return out


def quantiles(rows: Floats, levels: Sequence[float]) -> Floats:
    """`np.quantile(rows, levels, axis=1)` (linear interpolation) from one sort of each row:
    NumPy's vectorised sort of 200 rows of 500 takes a sixth of the partitions np.quantile
    makes."""
    ordered = np.sort(rows, axis=1)
    last = rows.shape[1] - 1
    out = np.empty((len(levels), rows.shape[0]))
    for k, level in enumerate(levels):
        low = min(math.floor(last * level), last)
        high = min(low + 1, last)
        out[k] = ordered[:, low] + (last * level - low) * (ordered[:, high] - ordered[:, low])
    return out


def _report(jobs: Sequence[OpenJob], done: Floats, now: datetime, on_duty: int) -> RiskReport:
    if not jobs:
        return RiskReport({}, 0.0, on_duty)
    deadlines = np.array([(job.deadline - now).total_seconds() / 60.0 for job in jobs])
    otp = (done <= deadlines[:, None]).mean(axis=1)
    cap = MAX_ETA.total_seconds() / 60.0
    p50, p90 = np.minimum(quantiles(done, (0.5, 0.9)), cap)
    tickets = {
        job.ticket_id: TicketRisk(
            otp=float(otp[j]),
            eta_p50=now + timedelta(minutes=float(p50[j])),
            eta_p90=now + timedelta(minutes=float(p90[j])),
        )
        for j, job in enumerate(jobs)
    }
    return RiskReport(tickets, float((1.0 - otp).mean()), on_duty)


# --- what-if rosters ---------------------------------------------------------------------------


def with_extra_engineer(engineers: Sequence[EngineerState], zone: str) -> list[EngineerState]:
    """The roster plus a fresh, idle engineer on duty in `zone` (with a negative, unused id)."""
    staff_id = min([e.staff_id for e in engineers] + [STAND_IN_ID]) - 1
    return [*engineers, EngineerState(staff_id, frozenset({zone}), on_duty=True)]


def with_moved_engineer(
    engineers: Sequence[EngineerState], staff_id: int, zone: str
) -> list[EngineerState]:
    """The roster with one engineer covering only `zone`; the jobs they accepted stay theirs."""
    if all(e.staff_id != staff_id for e in engineers):
        raise ValueError(f"engineer {staff_id} is not in the roster")
    return [replace(e, zones=frozenset({zone})) if e.staff_id == staff_id else e for e in engineers]


def extra_engineer(zone: str) -> Roster:
    """`with_extra_engineer` as a what-if for `RiskService.assess`."""
    return lambda engineers: with_extra_engineer(engineers, zone)


def move_engineer(staff_id: int, zone: str) -> Roster:
    """`with_moved_engineer` as a what-if for `RiskService.assess`."""
    return lambda engineers: with_moved_engineer(engineers, staff_id, zone)


# --- calibration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    predicted: float
    observed: float
    count: int


@dataclass(frozen=True)
class Calibration:
    bins: list[ReliabilityBin]
    ece: float
    """Expected calibration error: the count-weighted mean |observed - predicted| over the bins."""


def calibration(
    predicted: Sequence[float] | Floats,
    on_time: Sequence[bool] | npt.NDArray[np.bool_],
    bins: int = 10,
) -> Calibration:
    """How well OTPs match what happened, in equal-width bins (empty bins are left out); for
    checking the model on a simulated hospital, or backtesting it on the desk's own history."""
    p = np.asarray(predicted, dtype=np.float64)
    hit = np.asarray(on_time, dtype=np.float64)
    if p.shape != hit.shape or p.ndim != 1:
        raise ValueError("predicted and on_time must be two sequences of the same length")
    which = np.minimum((p * bins).astype(np.intp), bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        if count == 0:
            continue
        predicted_mean, observed = float(p[mask].mean()), float(hit[mask].mean())
        rows.append(ReliabilityBin(b / bins, (b + 1) / bins, predicted_mean, observed, count))
        ece += count / p.size * abs(observed - predicted_mean)
    return Calibration(rows, ece)
