"""The SLA policy file: the shipped default, override rules, and refusals with line numbers."""

from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.enums import Urgency
from bot.sla.policy import PolicyError, SlaPolicy, Stage, load_policy, parse_policy
from tests.conftest import repairbot

BASE = "\n".join(
    f'[urgency.{u.value}]\naccept = "15m"\nrepair = "4h"\nsent_out = "7d"\nloan = "14d"\n'
    'escalate_after = "15m"\n'
    for u in Urgency
)


def test_default_policy_is_complete() -> None:
    policy = load_policy(None)
    for urgency in Urgency:
        for stage in Stage:
            assert policy.limit(stage, urgency) > timedelta()
    assert policy.limit(Stage.ACCEPT, Urgency.CRITICAL) < policy.limit(Stage.ACCEPT, Urgency.LOW)
    assert policy.inspection["printer"] == timedelta(days=90)


def test_overrides_replace_and_priority_only_tightens() -> None:
    policy: SlaPolicy = parse_policy(
        BASE
        + '[fault_type.network]\nrepair = "8h"\n'
        + '[asset_type.server]\nrepair = "1d"\n'
        + '[priority]\naccept = "5m"\nrepair = "12h"\n'
    )
    assert policy.limit(Stage.REPAIR, Urgency.NORMAL) == timedelta(hours=4)
    assert policy.limit(Stage.REPAIR, Urgency.NORMAL, fault_type="network") == timedelta(hours=8)
    both = policy.limit(Stage.REPAIR, Urgency.NORMAL, fault_type="network", asset_type="server")
    assert both == timedelta(days=1)
    assert policy.limit(Stage.ACCEPT, Urgency.NORMAL, priority=True) == timedelta(minutes=5)
    assert policy.limit(Stage.REPAIR, Urgency.NORMAL, priority=True) == timedelta(hours=4)
    assert policy.limit(Stage.LOAN, Urgency.NORMAL, asset_type="unknown") == timedelta(days=14)


def test_seconds_are_allowed_for_drills() -> None:
    policy = parse_policy(BASE.replace('accept = "15m"', 'accept = "90s"'))
    assert policy.limit(Stage.ACCEPT, Urgency.HIGH) == timedelta(seconds=90)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (BASE + "[priority\n", 28, "Expected ']'"),
        (BASE.replace('repair = "4h"', 'repair = "soon"', 1), 3, "urgency.critical.repair"),
        (BASE.replace('loan = "14d"', "loan = 14", 1), 5, "14 is not a duration"),
        (BASE.replace('escalate_after = "15m"', 'escalate = "15m"', 1), 6, "unknown stage"),
        (BASE + '[urgency.urgent]\naccept = "1m"\n', 28, "unknown urgency [urgency.urgent]"),
        (BASE + '[asset_typ.kiosk]\naccept = "1m"\n', 28, "unknown section [asset_typ]"),
        (BASE + '[asset_type.kiosk]\nacept = "1m"\n', 29, "unknown stage 'acept'"),
        (BASE + '[inspection]\nprinter = "quarterly"\n', 29, "inspection.printer"),
        (BASE.replace('loan = "14d"\n', "", 1), 1, "[urgency.critical] lacks loan"),
        (BASE.split("[urgency.low]")[0], 0, "the policy lacks [urgency.low]"),
    ],
)
def test_bad_policies_name_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert info.value.line == line
    assert reason in info.value.reason


def test_run_refuses_a_bad_policy_at_start(tmp_path: Path) -> None:
    (tmp_path / "sla.toml").write_text(BASE.replace('accept = "15m"', 'accept = "0s"', 1))
    done = repairbot(tmp_path, "run", BOT_TOKEN="1000:TEST-token", SLA_POLICY="sla.toml")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: SLA_POLICY line 2: urgency.critical.accept: '0s' must be longer than zero"
    )
    missing = repairbot(tmp_path, "run", BOT_TOKEN="1000:TEST-token", SLA_POLICY="nope.toml")
    assert missing.returncode == 2
    assert "SLA_POLICY cannot read nope.toml" in missing.stderr
