"""Signed, expiring dashboard links: whoever holds one sees the dashboard until it expires;
anything else is refused. Pure functions over a secret and the time."""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta


class BadLink(ValueError):
    """Forged, damaged or expired."""


@dataclass(frozen=True)
class Grant:
    staff_id: int
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def sign(secret: bytes, staff_id: int, now: datetime, ttl: timedelta) -> str:
    body = _b64(json.dumps({"s": staff_id, "e": int((now + ttl).timestamp())}).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: bytes, token: str, now: datetime) -> Grant:
    body, _, mac = token.partition(".")
    if not body or not hmac.compare_digest(mac, _mac(secret, body)):
        raise BadLink("signature")
    try:
        data = json.loads(_unb64(body))
        grant = Grant(int(data["s"]), datetime.fromtimestamp(int(data["e"]), tz=now.tzinfo))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadLink("payload") from exc
    if grant.expires <= now:
        raise BadLink("expired")
    return grant
