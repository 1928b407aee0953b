"""Engineer invite links: `https://t.me/<bot>?start=i-<payload>`, signed and expiring, so an
admin can onboard an engineer by sending one link instead of editing the staff CSV.

The payload is base64url("<expiry hex>:<zone>;<zone>") followed by a 16-character MAC: only
Telegram's deep-link alphabet, at most 64 characters in all.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

PREFIX = "i-"
MAC_CHARS = 16
MAX_PAYLOAD = 64


class BadInvite(ValueError):
    """Forged, damaged or expired."""


@dataclass(frozen=True)
class Invite:
    zones: list[str]
    expires: datetime
    mac: str
    """Identifies the link, to use it once."""


def _mac(secret: bytes, data: str) -> str:
    digest = hmac.new(secret, b"invite:" + data.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]


def invite_payload(secret: bytes, zones: list[str], expires: datetime) -> str:
    raw = f"{int(expires.timestamp()):x}:{';'.join(zones)}".encode()
    data = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    payload = f"{PREFIX}{data}{_mac(secret, data)}"
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("too many zones for one invite link")
    return payload


def read_invite(secret: bytes, payload: str, now: datetime) -> Invite:
    body = payload.removeprefix(PREFIX)
    data, mac = body[:-MAC_CHARS], body[-MAC_CHARS:]
    if (
        not payload.startswith(PREFIX)
        or not data
        or not hmac.compare_digest(mac, _mac(secret, data))
    ):
        raise BadInvite("signature")
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
        expiry, _, zones = raw.partition(":")
        expires = datetime.fromtimestamp(int(expiry, 16), tz=UTC)
    except ValueError as exc:
        raise BadInvite("payload") from exc
    if expires <= now:
        raise BadInvite("expired")
    return Invite([z for z in zones.split(";") if z], expires, mac)
