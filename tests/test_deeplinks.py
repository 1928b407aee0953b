"""Deep-link payloads: every asset code survives Telegram's start-parameter rules."""

import re

import pytest

from bot.domain.deeplinks import (
    asset_code_from_payload,
    asset_code_from_scan,
    asset_link,
    asset_payload,
)

TELEGRAM_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


@pytest.mark.parametrize("code", ["PC-0001", "pr_12", "내과-PC-01", "A 1/2", "x" * 62, "코드" * 5])
def test_codes_round_trip_within_telegram_rules(code: str) -> None:
    payload = asset_payload(code)
    assert TELEGRAM_PAYLOAD.fullmatch(payload)
    assert asset_code_from_payload(payload) == code


def test_plain_codes_stay_readable() -> None:
    assert asset_payload("PC-0001") == "a-PC-0001"
    assert (
        asset_link("hospital_it_bot", "PC-0001") == "https://t.me/hospital_it_bot?start=a-PC-0001"
    )


def test_too_long_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        asset_payload("가" * 21)


@pytest.mark.parametrize("payload", ["", "a-", "z-PC", "b-!!!", "b-_w", "a-PC 1", "hello"])
def test_foreign_payloads_name_no_asset(payload: str) -> None:
    assert asset_code_from_payload(payload) is None


def test_scans_accept_links_and_bare_codes() -> None:
    assert asset_code_from_scan("https://t.me/any_bot?start=a-PC-0001") == "PC-0001"
    assert asset_code_from_scan("  PC-0001\n") == "PC-0001"
    assert asset_code_from_scan("https://example.org/?q=1") == "https://example.org/?q=1"
