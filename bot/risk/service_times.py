"""Service time: how long an engineer works on one job, learned from resolved tickets.

- A job's work time is resolved_at - accepted_at minus the part of that span the device spent at
  a vendor (sent_out_at -> back_at): the vendor's time is not the engineer's.
- Work times are lognormal. The log-mean and log-sd are fitted per (device type, fault type),
  falling back to the device type alone, then to every job.
- A sparse group is shrunk toward its parent as if the parent had contributed `PSEUDO`
  observations (the normal-inverse-gamma posterior mean on the log scale), so three odd printer
  jobs do not make every printer a four-hour job; the whole history is shrunk the same way toward
  the default (median 40 minutes, log-sd 0.8), which is all there is without history.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

Params = tuple[float, float]
"""(mu, sigma): mean and standard deviation of the log of the work time in minutes."""

Floats = npt.NDArray[np.float64]
Sample = tuple[str | None, str | None, float]
"""(device type, fault type, minutes) of one finished job."""

DEFAULT_PARAMS: Params = (math.log(40.0), 0.8)
PSEUDO = 5.0
MIN_SIGMA = 0.05
"""A floor on the log-sd, so a group of identical durations still has some spread."""


@dataclass(frozen=True)
class ServiceTimes:
    """Fitted lognormal parameters, most specific first."""

    overall: Params = DEFAULT_PARAMS
    by_device: Mapping[str | None, Params] = field(default_factory=dict)
    by_key: Mapping[tuple[str | None, str | None], Params] = field(default_factory=dict)
    samples: int = 0

    def params(self, device_type: str | None, fault_type: str | None) -> Params:
        found = self.by_key.get((device_type, fault_type))
        if found is not None:
            return found
        return self.by_device.get(device_type, self.overall)

    def median_minutes(self, device_type: str | None, fault_type: str | None) -> float:
        return math.exp(self.params(device_type, fault_type)[0])


def shrink(logs: Floats, parent: Params, pseudo: float = PSEUDO) -> Params:
    """Posterior mean of (mu, sigma) for `logs` under a prior worth `pseudo` draws from `parent`.

    A group whose mean sits far from its parent's also gets a wider spread: with few samples we
    cannot tell a different typical time from bad luck.
    """
    n = int(logs.size)
    if n == 0:
        return parent
    mu0, sigma0 = parent
    mean = float(logs.mean())
    squares = float(((logs - mean) ** 2).sum())
    mu = (pseudo * mu0 + n * mean) / (pseudo + n)
    between = pseudo * n / (pseudo + n) * (mean - mu0) ** 2
    variance = (pseudo * sigma0**2 + squares + between) / (pseudo + n)
    return mu, max(math.sqrt(variance), MIN_SIGMA)


def estimate_service_times(
    samples: Iterable[Sample], *, pseudo: float = PSEUDO, default: Params = DEFAULT_PARAMS
) -> ServiceTimes:
    """Fit the hierarchy (everything -> device type -> device and fault type); jobs that took no
    time at all (clock skew, instant resolves) say nothing about work and are skipped."""
    minutes: dict[tuple[str | None, str | None], list[float]] = {}
    for device_type, fault_type, value in samples:
        minutes.setdefault((device_type, fault_type), []).append(value)
    by_key: dict[tuple[str | None, str | None], Floats] = {}
    for key, values in minutes.items():
        array = np.array(values, dtype=np.float64)
        array = array[np.isfinite(array) & (array > 0)]
        if array.size:
            by_key[key] = np.log(array)
    by_device: dict[str | None, list[Floats]] = {}
    for (device_type, _), logs in by_key.items():
        by_device.setdefault(device_type, []).append(logs)
    device_logs = {d: np.concatenate(parts) for d, parts in by_device.items()}
    everything = np.concatenate([*device_logs.values(), np.empty(0)])
    overall = shrink(everything, default, pseudo)
    devices = {d: shrink(logs, overall, pseudo) for d, logs in device_logs.items()}
    keys = {k: shrink(logs, devices[k[0]], pseudo) for k, logs in by_key.items()}
    return ServiceTimes(overall, devices, keys, int(everything.size))


def work_minutes(
    accepted_at: datetime,
    resolved_at: datetime,
    sent_out_at: datetime | None = None,
    back_at: datetime | None = None,
) -> float:
    """Engineer minutes between accept and resolve: the vendor trip's overlap is taken out (only
    the last trip is on the ticket, and it may predate a later accept after a reopen)."""
    total = (resolved_at - accepted_at).total_seconds()
    if sent_out_at is not None and back_at is not None:
        start, end = max(sent_out_at, accepted_at), min(back_at, resolved_at)
        total -= max((end - start).total_seconds(), 0.0)
    return total / 60.0
