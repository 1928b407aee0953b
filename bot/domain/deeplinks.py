"""Asset deep links: `https://t.me/<bot>?start=<payload>` printed as QR codes on device labels.

Telegram allows only A-Z, a-z, 0-9, `_` and `-` in a start payload, at most 64 characters.
Plain codes travel as `a-<code>`; any other code as `b-<base64url>`, so every code round-trips.
"""

import base64
import binascii
import re
import unicodedata
from urllib.parse import parse_qs, urlparse

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
MAX_PAYLOAD = 64
MAX_CODE = 64
"""Asset codes are at most this long (the `assets.code` column)."""


def asset_payload(code: str) -> str:
    if _SAFE.fullmatch(code) and len(code) <= MAX_PAYLOAD - 2:
        return f"a-{code}"
    packed = base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")
    if len(packed) > MAX_PAYLOAD - 2:
        raise ValueError(f"asset code {code!r} is too long for a Telegram deep link")
    return f"b-{packed}"


def _has_controls(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def asset_code_from_payload(payload: str) -> str | None:
    """The code a start payload carries; None for anything no label of ours prints (a payload
    typed by hand can be longer than Telegram's, or decode to control characters)."""
    if len(payload) > MAX_PAYLOAD:
        return None
    kind, _, rest = payload.partition("-")
    if not rest:
        return None
    if kind == "a":
        return rest if _SAFE.fullmatch(rest) else None
    if kind == "b":
        try:
            padded = rest + "=" * (-len(rest) % 4)
            code = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return code if code and not _has_controls(code) else None
    return None


def asset_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={asset_payload(code)}"


def asset_code_from_scan(text: str) -> str:
    """What a scanned QR names: the code inside one of our deep links, else the text itself.

    A foreign QR can hold thousands of characters, control characters included: those become
    U+FFFD and the text is cut after MAX_CODE characters (marked with an ellipsis), so it can be
    looked up and quoted back safely, and still matches no device."""
    parsed = urlparse(text.strip())
    if parsed.scheme in {"http", "https", "tg"} and parsed.query:
        for payload in parse_qs(parsed.query).get("start", []):
            code = asset_code_from_payload(payload)
            if code is not None:
                return code
    code = "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in text.strip())
    return code if len(code) <= MAX_CODE else code[:MAX_CODE] + "…"
