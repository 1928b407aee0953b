"""The SLA policy file: limits per urgency for every stage, with overrides, checked at start.

A mistake in the file is refused with its line and the reason, so a typo never silently turns
a 15-minute limit into no limit at all.
"""

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from bot.domain.enums import Urgency
from bot.durations import parse_duration


class Stage(StrEnum):
    ACCEPT = "accept"
    REPAIR = "repair"
    SENT_OUT = "sent_out"
    LOAN = "loan"
    ESCALATE_AFTER = "escalate_after"


OVERRIDE_SECTIONS = ("fault_type", "asset_type")
Limits = Mapping[Stage, timedelta]


class PolicyError(ValueError):
    """A policy the bot refuses; `line` is 1-based (0 when the whole file is at fault)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class SlaPolicy:
    urgency: Mapping[Urgency, Limits]
    fault_type: Mapping[str, Limits] = field(default_factory=dict)
    asset_type: Mapping[str, Limits] = field(default_factory=dict)
    priority: Limits = field(default_factory=dict)
    inspection: Mapping[str, timedelta] = field(default_factory=dict)

    def limit(
        self,
        stage: Stage,
        urgency: Urgency,
        *,
        fault_type: str | None = None,
        asset_type: str | None = None,
        priority: bool = False,
    ) -> timedelta:
        """The limit that applies: the urgency's, replaced by a fault type's and then an asset
        type's override; a priority department's limit only ever tightens it."""
        value = self.urgency[urgency][stage]
        for layer in (
            self.fault_type.get(fault_type or "", {}),
            self.asset_type.get(asset_type or "", {}),
        ):
            value = layer.get(stage, value)
        if priority and stage in self.priority:
            value = min(value, self.priority[stage])
        return value


class _Lines:
    """Where a section or key stands in the file, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, section: str, key: str | None = None) -> int:
        header = re.compile(rf"^\s*\[\s*{re.escape(section)}\s*[\].]")
        start = next((i for i, line in enumerate(self.lines) if header.match(line)), None)
        if start is None:
            return 0
        if key is None:
            return start + 1
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*=')
        for index in range(start + 1, len(self.lines)):
            if self.lines[index].lstrip().startswith("["):
                break
            if pattern.match(self.lines[index]):
                return index + 1
        return start + 1


def _limits(table: Any, section: str, where: _Lines, *, complete: bool) -> dict[Stage, timedelta]:
    if not isinstance(table, dict):
        raise PolicyError(where.of(section), f"[{section}] must be a table of stage limits")
    limits: dict[Stage, timedelta] = {}
    for key, raw in table.items():
        try:
            stage = Stage(key)
        except ValueError:
            allowed = ", ".join(s.value for s in Stage)
            raise PolicyError(
                where.of(section, key), f"unknown stage {key!r} in [{section}] (use {allowed})"
            ) from None
        limits[stage] = _duration(raw, section, key, where)
    missing = [s.value for s in Stage if s not in limits]
    if complete and missing:
        raise PolicyError(where.of(section), f"[{section}] lacks {', '.join(missing)}")
    return limits


def _duration(raw: Any, section: str, key: str, where: _Lines) -> timedelta:
    try:
        if not isinstance(raw, str):
            raise ValueError(f"{raw!r} is not a duration like 90s, 15m, 4h or 3d")
        return parse_duration(raw)
    except ValueError as exc:
        raise PolicyError(where.of(section, key), f"{section}.{key}: {exc}") from None


def parse_policy(text: str) -> SlaPolicy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise PolicyError(int(found.group(1)) if found else 0, str(exc)) from None
    where = _Lines(text)
    known = {"urgency", "priority", "inspection", *OVERRIDE_SECTIONS}
    for name in data:
        if name not in known:
            raise PolicyError(where.of(name), f"unknown section [{name}]")
    urgency_tables = data.get("urgency", {})
    for name in urgency_tables:
        if name not in {u.value for u in Urgency}:
            raise PolicyError(where.of(f"urgency.{name}"), f"unknown urgency [urgency.{name}]")
    urgency = {}
    for level in Urgency:
        section = f"urgency.{level.value}"
        if level.value not in urgency_tables:
            raise PolicyError(0, f"the policy lacks [{section}]")
        urgency[level] = _limits(urgency_tables[level.value], section, where, complete=True)
    overrides = {
        kind: {
            name.lower(): _limits(table, f"{kind}.{name}", where, complete=False)
            for name, table in data.get(kind, {}).items()
        }
        for kind in OVERRIDE_SECTIONS
    }
    priority = _limits(data.get("priority", {}), "priority", where, complete=False)
    inspection = {
        name.lower(): _duration(raw, "inspection", name, where)
        for name, raw in data.get("inspection", {}).items()
    }
    return SlaPolicy(
        urgency, overrides["fault_type"], overrides["asset_type"], priority, inspection
    )


def load_policy(path: Path | None) -> SlaPolicy:
    """The policy at `path`, or the documented default shipped with the package."""
    if path is None:
        text = resources.files("bot.sla").joinpath("default_policy.toml").read_text("utf-8")
    else:
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise PolicyError(0, f"cannot read {path}: {exc.strerror}") from None
    return parse_policy(text)
