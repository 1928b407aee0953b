"""A local Telegram Bot API server (aiohttp): the tests' fake, and the demo's Telegram.

Why a server and not a mocked ``Bot``: the real aiogram ``Bot`` + ``Dispatcher`` then do
their real serialisation, long polling, error mapping (``TelegramRetryAfter`` ...) and
model validation, so tests catch the bugs that only show up against Telegram.  The fake
mimics the production behaviours that bite bots most often: editing a missing or
unchanged message is a 400, an edit without ``reply_markup`` drops the inline keyboard,
``parse_mode=HTML`` with a stray ``<`` or an unknown tag is a 400, callback data over
64 bytes is rejected, and ``allowed_updates`` filters what polling receives.  Files sent
by users or by the bot are kept and served by ``getFile`` and the file download path.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import math
import mimetypes
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from aiohttp import web

JSON = dict[str, Any]
T = TypeVar("T")

BOT_USER: JSON = {
    "id": 1000,
    "is_bot": True,
    "first_name": "RepairBot",
    "username": "repairbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# aiogram sends every non-str value JSON-encoded ("42", "true", '{"inline_keyboard":..}').
# Free-text and id params must stay str, or a message text "123" would turn into an int.
_STRING_PARAMS = {
    "text",
    "caption",
    "callback_query_id",
    "file_id",
    "data",
    "query",
    "title",
    "url",
    "description",
    "short_description",
    "name",
    "parse_mode",
    "emoji",
    "inline_message_id",
    "business_connection_id",
    "message_effect_id",
    "custom_title",
    "first_name",
    "last_name",
    "phone_number",
    "address",
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "sticker",
}
_HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^<>]*>|&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|<")
# Methods that put a message in a chat (or change one): what Telegram's flood limits count.
SENDING_METHODS = {
    "sendmessage",
    "sendphoto",
    "sendvoice",
    "senddocument",
    "sendaudio",
    "sendvideo",
    "sendanimation",
    "sendsticker",
    "sendmediagroup",
    "sendlocation",
    "sendcontact",
    "copymessage",
    "forwardmessage",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "editmessagemedia",
}
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance"
    " is running"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}


class FakeApiError(Exception):
    """Raised inside method handlers; becomes an ``{"ok": false, ...}`` response."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class UploadedFile:
    """A multipart file part; replaces its ``attach://<key>`` reference in call params."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class ApiCall:
    method: str
    params: JSON
    token: str
    failed: bool = False
    at: float = field(default_factory=time.monotonic)
    """When the call came in (``time.monotonic()``): for tests of pacing."""


@dataclass
class SentMessage:
    """One bot output to a chat: a send, or an edit (same ``message_id``, new content)."""

    method: str
    chat_id: int
    message_id: int
    text: str
    reply_markup: JSON | None
    params: JSON = field(default_factory=dict, repr=False)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        return _buttons(self.reply_markup)

    @property
    def button_texts(self) -> list[str]:
        return [text for text, _ in self.buttons]

    def __str__(self) -> str:
        return f"{self.method}#{self.message_id}: {self.text!r} buttons={self.button_texts}"


@dataclass
class _Fault:
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class _Limits:
    """Telegram's flood control, as a bot meets it: too many sends answer 429 + retry_after."""

    per_chat: float
    overall: float
    slack: float
    overall_sent: deque[float] = field(default_factory=deque)
    chat_sent: dict[int, float] = field(default_factory=dict)

    def check(self, chat_id: int | None, now: float) -> int | None:
        """None if a send may go now (and count it), else the seconds to retry after."""
        window = 1.0 - self.slack
        while self.overall_sent and self.overall_sent[0] <= now - window:
            self.overall_sent.popleft()
        if len(self.overall_sent) >= self.overall:
            return max(1, math.ceil(self.overall_sent[0] + window - now))
        if chat_id is not None and (last := self.chat_sent.get(chat_id)) is not None:
            gap = 1.0 / self.per_chat - self.slack
            if now - last < gap:
                return max(1, math.ceil(last + gap - now))
        self.overall_sent.append(now)
        if chat_id is not None:
            self.chat_sent[chat_id] = now
        return None


def _buttons(markup: JSON | None) -> list[tuple[str, str | None]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [(b["text"], b.get("callback_data")) for row in rows for b in row]


def _accept(params: JSON) -> bool:
    """What Telegram answers to the methods the fake does not model (setMyCommands...)."""
    return True


def _kind(update: JSON) -> str:
    return next(k for k in update if k != "update_id")


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _resolve(value: Any, uploads: dict[str, UploadedFile], used: set[str]) -> Any:
    """Replace ``attach://key`` strings (top level or inside InputMedia JSON) by the upload."""
    if isinstance(value, str) and value.startswith("attach://") and value[9:] in uploads:
        used.add(value[9:])
        return uploads[value[9:]]
    if isinstance(value, list):
        return [_resolve(v, uploads, used) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, uploads, used) for k, v in value.items()}
    return value


def _visible_text(text: str, parse_mode: str | None) -> str:
    """What the user sees. HTML is validated the way Telegram does, so escaping bugs fail."""
    if (parse_mode or "").upper() != "HTML":
        return text
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _HTML_TOKEN.finditer(text):
        out.append(text[pos : m.start()])
        pos = m.end()
        where = f"at byte offset {len(text[: m.start()].encode())}"
        if m.group(2) is None and m.group(0) == "<":
            raise FakeApiError(
                400, f"Bad Request: can't parse entities: unexpected '<' (use &lt;) {where}"
            )
        if m.group(2) is None:
            out.append(html.unescape(m.group(0)))
            continue
        tag = m.group(2).lower()
        if tag not in _HTML_TAGS:
            raise FakeApiError(
                400, f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}" {where}'
            )
        if not m.group(1):
            stack.append(tag)
        elif not stack or stack.pop() != tag:
            raise FakeApiError(
                400, f"Bad Request: can't parse entities: Unexpected end tag {where}"
            )
    if stack:
        raise FakeApiError(
            400,
            "Bad Request: can't parse entities: Can't find end tag "
            f'corresponding to start tag "{stack[-1]}"',
        )
    return "".join(out) + text[pos:]


def _inline_markup(markup: Any) -> JSON | None:
    """Telegram keeps (and returns) only inline keyboards on a message."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for _, data in _buttons(markup):
        if data is not None and len(data.encode()) > 64:
            raise FakeApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _chat_id(params: JSON) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise FakeApiError(400, "Bad Request: chat not found") from None


class FakeTelegram:
    """The fake server: state, HTTP routing, Bot API methods and waiting helpers."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []
        self.files: dict[str, bytes] = {}
        self.base_url = ""
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._messages: dict[tuple[int, int], JSON] = {}  # current state of every message
        self._outputs: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self._answers: list[JSON] = []
        self._callback_ids: set[str] = set()
        self._faults: defaultdict[str, list[_Fault]] = defaultdict(list)
        self._users: dict[int, FakeUser] = {}
        self._limits: _Limits | None = None
        self.throttled: list[ApiCall] = []
        """Sends answered 429 because the bot went over a limit of enforce_limits()."""
        self._allowed_updates: list[str] = []
        self._changed = asyncio.Condition()
        self.revision = 0
        """Goes up whenever a chat changes (a message sent, edited or deleted, a toast)."""
        self._closing = False
        self._polls = 0
        """getUpdates calls so far: a newer one ends the long poll of an older one (409)."""
        self._runner: web.AppRunner | None = None
        # Bot API methods by lowercase name (Telegram ignores case); others just return true.
        self._methods: dict[str, Callable[[JSON], Any]] = {
            "getme": lambda p: BOT_USER,
            "sendmessage": self._send_message,
            "sendphoto": partial(self._send_file, "sendPhoto", "photo"),
            "senddocument": partial(self._send_file, "sendDocument", "document"),
            "sendvoice": partial(self._send_file, "sendVoice", "voice"),
            "editmessagetext": partial(self._edit, "editMessageText"),
            "editmessagecaption": partial(self._edit, "editMessageCaption"),
            "editmessagereplymarkup": partial(self._edit, "editMessageReplyMarkup"),
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
        }

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away stops waiting at once.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def close(self) -> None:
        self._closing = True  # releases pending getUpdates long polls
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- test-facing API -------------------------------------------------------------
    def user(
        self,
        user_id: int,
        first_name: str = "User",
        language_code: str = "ko",
        username: str | None = None,
    ) -> FakeUser:
        if user_id not in self._users:
            self._users[user_id] = FakeUser(self, user_id, first_name, language_code, username)
        return self._users[user_id]

    def add_file(self, file_id: str, data: bytes) -> None:
        self.files[file_id] = data

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only to ``chat_id``) fail."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            )
        self._faults[method.lower()].append(
            _Fault(error_code, description, retry_after, times, chat_id)
        )

    def forget(self) -> None:
        """Drop the record of everything sent so far (calls, messages, toasts); users read
        what comes next. A bench's rounds would otherwise grow the heap, which the garbage
        collector walks for every bot in the process, by thousands of objects a round."""
        self.calls.clear()
        self.throttled.clear()
        self._messages.clear()
        self._outputs.clear()
        self._answers.clear()
        for user in self._users.values():
            user._cursor = user._answer_cursor = 0

    def clear_faults(self) -> None:
        """Telegram is healthy again: drop every pending injected failure."""
        self._faults.clear()

    def enforce_limits(
        self, per_chat: float = 1.0, overall: float = 30.0, *, slack: float = 0.1
    ) -> None:
        """From now on answer sends (SENDING_METHODS) like Telegram's flood control: 429 with
        `retry_after` when the bot goes over `per_chat` messages a second to one chat or
        `overall` a second in all. `slack` seconds of network jitter are forgiven."""
        self._limits = _Limits(per_chat, overall, slack)

    def lift_limits(self) -> None:
        self._limits = None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def outputs_to(self, chat_id: int) -> list[SentMessage]:
        return list(self._outputs[chat_id])

    def chat_messages(self, chat_id: int) -> list[JSON]:
        """Every message of a chat as it is now (edits applied, deletions gone), oldest first."""
        found = [m for (c, _), m in self._messages.items() if c == chat_id]
        return sorted(found, key=lambda m: int(m["message_id"]))

    async def wait_revision(self, after: int, timeout: float) -> int:
        """The revision once it is past `after`, or as it is when `timeout` runs out."""
        await self._wait(lambda: self.revision > after, timeout)
        return self.revision

    async def wait_for_call(self, method: str, *, count: int = 1, timeout: float = 5.0) -> ApiCall:
        """Wait until ``method`` was called ``count`` times; return that call."""

        def check() -> ApiCall | None:
            calls = self.calls_to(method)
            return calls[count - 1] if len(calls) >= count else None

        if (call := await self._wait(check, timeout)) is None:
            raise AssertionError(f"{method} not called {count}x within {timeout}s")
        return call

    async def push_update(self, payload: JSON) -> JSON:
        """Queue a raw update (``update_id`` is assigned) for the next getUpdates."""
        update = {"update_id": next(self._update_ids), **payload}
        if "callback_query" in update:
            self._callback_ids.add(str(update["callback_query"]["id"]))
        self._updates.append(update)
        await self._notify()
        return update

    # -- plumbing --------------------------------------------------------------------
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(self, check: Callable[[], T], timeout: float) -> T | None:
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    return await self._changed.wait_for(check)
            except TimeoutError:
                return check() or None

    def _chat(self, chat_id: int) -> JSON:
        if chat_id < 0:
            return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        user = self._users.get(chat_id)
        chat = {"id": chat_id, "type": "private", "first_name": user.first_name if user else "User"}
        if user and user.username:
            chat["username"] = user.username
        return chat

    def _bot_messages(self, chat_id: int) -> list[JSON]:
        """Current state of the bot's messages in a chat, newest first."""
        found = [
            m
            for (c, _), m in self._messages.items()
            if c == chat_id and m["from"]["id"] == BOT_USER["id"]
        ]
        return sorted(found, key=lambda m: -m["message_id"])

    def _record_output(self, method: str, msg: JSON, params: JSON, markup: Any) -> None:
        self._outputs[msg["chat"]["id"]].append(
            SentMessage(
                method,
                msg["chat"]["id"],
                msg["message_id"],
                str(msg.get("text", msg.get("caption", ""))),
                markup,
                params,
            )
        )

    def _take_fault(self, method: str, params: JSON) -> _Fault | None:
        for fault in self._faults[method.lower()]:
            if fault.chat_id is None or str(params.get("chat_id")) == str(fault.chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[method.lower()].remove(fault)
                return fault
        return None

    def _throttle(self, method: str, params: JSON) -> int | None:
        if self._limits is None or method.lower() not in SENDING_METHODS:
            return None
        try:
            chat_id: int | None = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            chat_id = None  # inline messages, or a 400 the method itself will answer
        return self._limits.check(chat_id, time.monotonic())

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: JSON = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            raw.update(await request.json())
        elif request.method == "POST":
            for key, value in (await request.post()).items():
                raw[key] = (
                    UploadedFile(value.filename, value.content_type, value.file.read())
                    if isinstance(value, web.FileField)
                    else value
                )
        uploads = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
        used: set[str] = set()
        params = {k: _resolve(_decode(k, v), uploads, used) for k, v in raw.items()}
        params = {k: v for k, v in params.items() if k not in used}
        method = request.match_info["method"]
        call = ApiCall(method, params, request.match_info["token"])
        self.calls.append(call)
        await self._notify()  # wait_for_call sees a long poll as soon as it starts
        try:
            if fault := self._take_fault(method, params):
                raise FakeApiError(fault.error_code, fault.description, fault.retry_after)
            if (retry_after := self._throttle(method, params)) is not None:
                self.throttled.append(call)
                raise FakeApiError(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after
                )
            if method.lower() == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self._methods.get(method.lower(), _accept)(params)
        except (KeyError, TypeError, ValueError) as e:  # missing/garbled param: a 400, not a 500
            error = FakeApiError(400, f"Bad Request: invalid or missing parameter: {e}")
        except FakeApiError as e:
            error = e
        else:
            await self._notify()
            return web.json_response({"ok": True, "result": result})
        call.failed = True
        await self._notify()
        return self._error(error.code, error.description, error.retry_after)

    async def _handle_file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["path"].removeprefix("files/"))
        return web.Response(body=data) if data is not None else self._error(404, "Not Found")

    def _media(self, kind: str, value: Any) -> tuple[str, JSON]:
        """file_id + metadata for a sent file: uploads get a new id and become downloadable."""
        if isinstance(value, UploadedFile):
            file_id = f"{kind}-{next(self._ids)}"
            self.add_file(file_id, value.data)
            mime = mimetypes.guess_type(value.filename)[0] or "application/octet-stream"
            return file_id, {
                "file_name": value.filename,
                "mime_type": mime,
                "file_size": len(value.data),
            }
        return str(value), {}

    # -- Bot API methods ---------------------------------------------------------------
    async def _get_updates(self, p: JSON) -> list[JSON]:
        if p.get("allowed_updates"):  # like Telegram: the last non-empty setting sticks
            self._allowed_updates = p["allowed_updates"]
        offset, limit = int(p.get("offset", 0)), int(p.get("limit", 100))
        self._polls += 1
        poll = self._polls
        await self._notify()

        def ready() -> bool:
            if self._polls != poll:
                return True
            self._updates = [
                u
                for u in self._updates
                if u["update_id"] >= offset
                and (not self._allowed_updates or _kind(u) in self._allowed_updates)
            ]
            return bool(self._updates) or self._closing

        await self._wait(ready, float(p.get("timeout", 0)))
        if self._polls != poll:  # like Telegram, when a second process polls the same bot
            raise FakeApiError(409, CONFLICT)
        return self._updates[:limit]

    def _send_message(self, p: JSON) -> JSON:
        return self._send(
            "sendMessage", p, {"text": _visible_text(p.get("text", ""), p.get("parse_mode"))}
        )

    def _send_file(self, method: str, kind: str, p: JSON) -> JSON:
        file_id, meta = self._media(kind, p[kind])
        ids = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        if kind == "photo":
            return self._send(method, p, {"photo": [{**ids, "width": 1280, "height": 960}]})
        if kind == "voice":
            meta = {"duration": int(p.get("duration") or 1), **meta}
        return self._send(method, p, {kind: {**ids, **meta}})

    def _send(self, method: str, p: JSON, content: JSON) -> JSON:
        chat_id = _chat_id(p)
        if "text" in content and not content["text"]:
            raise FakeApiError(400, "Bad Request: message text is empty")
        if len(content.get("text", "")) > 4096:
            raise FakeApiError(400, "Bad Request: message is too long")
        msg: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": BOT_USER,
            **content,
        }
        self._set_caption(msg, p)
        if p.get("entities"):
            msg["entities"] = p["entities"]
        if markup := _inline_markup(p.get("reply_markup")):
            msg["reply_markup"] = markup
        self._messages[(chat_id, msg["message_id"])] = msg
        self.revision += 1
        self._record_output(method, msg, p, p.get("reply_markup"))
        return msg

    @staticmethod
    def _set_caption(msg: JSON, p: JSON) -> None:
        msg.pop("caption", None)
        if caption := _visible_text(p.get("caption", ""), p.get("parse_mode")):
            if len(caption) > 1024:
                raise FakeApiError(400, "Bad Request: message caption is too long")
            msg["caption"] = caption

    def _edit(self, method: str, p: JSON) -> JSON | bool:
        if "inline_message_id" in p:
            return True
        key = (_chat_id(p), int(p.get("message_id", 0)))
        if (old := self._messages.get(key)) is None:
            raise FakeApiError(400, "Bad Request: message to edit not found")
        if old["from"]["id"] != BOT_USER["id"]:
            raise FakeApiError(400, "Bad Request: message can't be edited")
        msg = dict(old)
        if method == "editMessageText":
            if "text" not in old:
                raise FakeApiError(400, "Bad Request: there is no text in the message to edit")
            if not (text := _visible_text(p.get("text", ""), p.get("parse_mode"))):
                raise FakeApiError(400, "Bad Request: message text is empty")
            msg["text"] = text
            msg.pop("entities", None)
        elif method == "editMessageCaption":
            self._set_caption(msg, p)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        msg.pop("reply_markup", None)
        if markup := _inline_markup(p.get("reply_markup")):
            msg["reply_markup"] = markup
        if msg == old:
            raise FakeApiError(
                400,
                "Bad Request: message is not modified: specified new "
                "message content and reply markup are exactly the same "
                "as a current content and reply markup of the message",
            )
        msg["edit_date"] = int(time.time())
        self._messages[key] = msg
        self.revision += 1
        self._record_output(method, msg, p, msg.get("reply_markup"))
        return msg

    def _delete_message(self, p: JSON) -> bool:
        if self._messages.pop((_chat_id(p), int(p.get("message_id", 0))), None) is None:
            raise FakeApiError(400, "Bad Request: message to delete not found")
        self.revision += 1
        return True

    def _answer_callback_query(self, p: JSON) -> bool:
        if str(p.get("callback_query_id")) not in self._callback_ids:
            raise FakeApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answers.append(p)
        self.revision += 1
        return True

    def _get_file(self, p: JSON) -> JSON:
        file_id = str(p["file_id"])
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(self.files.get(file_id, b"")),
            "file_path": f"files/{file_id}",
        }


class FakeUser:
    """One user's private chat with the bot: sends updates, awaits what the bot does."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str,
        username: str | None,
    ) -> None:
        self.fake, self.id, self.first_name = fake, user_id, first_name
        self.language_code, self.username = language_code, username
        self._cursor = 0  # index into fake._outputs[id]: everything before is consumed
        self._answer_cursor = 0  # index into fake._answers
        self._callback_ids: set[str] = set()

    @property
    def as_user(self) -> JSON:
        user = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        return {**user, "username": self.username} if self.username else user

    @property
    def outputs(self) -> list[SentMessage]:
        return self.fake.outputs_to(self.id)

    @property
    def answers(self) -> list[str]:
        """Texts of the bot's answers (toasts) to this user's presses, oldest first."""
        return [
            str(a.get("text", ""))
            for a in self.fake._answers
            if str(a["callback_query_id"]) in self._callback_ids
        ]

    # -- sending -------------------------------------------------------------------
    async def _message(self, **content: Any) -> JSON:
        msg = {
            "message_id": next(self.fake._message_ids),
            "date": int(time.time()),
            "chat": self.fake._chat(self.id),
            "from": self.as_user,
            **content,
        }
        self.fake._messages[(self.id, msg["message_id"])] = msg
        self.fake.revision += 1
        return await self.fake.push_update({"message": msg})

    def _file(self, kind: str, data: bytes) -> JSON:
        file_id = f"{kind}-{next(self.fake._ids)}"
        self.fake.add_file(file_id, data)
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}

    async def send_text(self, text: str) -> JSON:
        """Like Telegram clients, a leading /command gets a bot_command entity."""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entity = {
                "type": "bot_command",
                "offset": 0,
                "length": len(command.encode("utf-16-le")) // 2,
            }
            return await self._message(text=text, entities=[entity])
        return await self._message(text=text)

    async def send_command(self, name: str, args: str = "") -> JSON:
        return await self.send_text(f"/{name.lstrip('/')} {args}".rstrip())

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        return await self._message(
            sticker={
                **self._file("sticker", b"RIFF-webp"),
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
        )

    async def send_document(
        self,
        file_name: str = "a.pdf",
        mime_type: str = "application/pdf",
        data: bytes = b"%PDF-1.4 fake",
    ) -> JSON:
        return await self._message(
            document={
                **self._file("document", data),
                "file_name": file_name,
                "mime_type": mime_type,
            }
        )

    async def send_photo(
        self, data: bytes = b"\xff\xd8\xff fake jpeg", caption: str | None = None
    ) -> JSON:
        big = self._file("photo", data)
        small = {**big, "file_id": big["file_id"] + "-s", "file_unique_id": big["file_id"] + "s"}
        self.fake.add_file(small["file_id"], data)
        content: JSON = {
            "photo": [{**small, "width": 90, "height": 68}, {**big, "width": 1280, "height": 960}]
        }
        return await self._message(**content, **({"caption": caption} if caption else {}))

    async def send_voice(self, duration: int = 3, data: bytes = b"OggS fake") -> JSON:
        return await self._message(
            voice={**self._file("voice", data), "duration": duration, "mime_type": "audio/ogg"}
        )

    # -- buttons -------------------------------------------------------------------
    def _current(self, message: SentMessage) -> JSON:
        if (msg := self.fake._messages.get((message.chat_id, message.message_id))) is None:
            raise AssertionError(f"message {message.message_id} no longer exists")
        return msg

    async def _callback(self, msg: JSON, data: str) -> JSON:
        query_id = str(4_000_000_000 + next(self.fake._ids))
        self._callback_ids.add(query_id)
        return await self.fake.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.as_user,
                    "message": msg,
                    "chat_instance": f"ci{self.id}",
                    "data": data,
                }
            }
        )

    async def press(self, button: str, message: SentMessage | None = None) -> JSON:
        """Press the first inline button whose text contains ``button`` (current state)."""
        candidates = [self._current(message)] if message else self.fake._bot_messages(self.id)
        for msg in candidates:
            for text, data in _buttons(msg.get("reply_markup")):
                if button in text:
                    if data is None:
                        raise AssertionError(f"button {text!r} has no callback_data")
                    return await self._callback(msg, data)
        available = {
            m["message_id"]: [t for t, _ in _buttons(m.get("reply_markup"))]
            for m in candidates
            if m.get("reply_markup")
        }
        raise AssertionError(f"no inline button containing {button!r}; available: {available}")

    async def press_button(self, message_id: int, data: str) -> JSON:
        """Press the button carrying `data` on one of the bot's messages, as it is now."""
        msg = self.fake._messages.get((self.id, message_id))
        if msg is None or data not in {d for _, d in _buttons(msg.get("reply_markup"))}:
            raise LookupError(f"message {message_id} has no such button")
        return await self._callback(msg, data)

    async def press_data(self, data: str, message: SentMessage | None = None) -> JSON:
        """Send arbitrary (possibly forged) callback data, as a modified client could."""
        if message is not None:
            return await self._callback(self._current(message), data)
        for msg in self.fake._bot_messages(self.id):
            if msg.get("reply_markup"):
                return await self._callback(msg, data)
        raise AssertionError("no bot message with an inline keyboard in this chat")

    # -- expectations --------------------------------------------------------------
    def _listing(self) -> str:
        return "\n".join(f"  {o}" for o in self.outputs) or "  (nothing)"

    async def expect(
        self,
        contains: str | None = None,
        *,
        timeout: float = 5.0,
        predicate: Callable[[SentMessage], bool] | None = None,
    ) -> SentMessage:
        """Next bot output to this chat matching; outputs skipped on the way are consumed."""
        outputs = self.fake._outputs[self.id]

        def find() -> SentMessage | None:
            while self._cursor < len(outputs):
                out = outputs[self._cursor]
                self._cursor += 1
                if (contains is None or contains in out.text) and (
                    predicate is None or predicate(out)
                ):
                    return out
            return None

        if (found := await self.fake._wait(find, timeout)) is None:
            raise AssertionError(
                f"user {self.id}: no output containing {contains!r} within "
                f"{timeout}s; the bot sent this chat:\n{self._listing()}"
            )
        return found

    async def expect_nothing(self, within: float = 0.5) -> None:
        outputs, start = self.fake._outputs[self.id], self._cursor
        if await self.fake._wait(lambda: len(outputs) > start, within):
            new = "\n".join(f"  {o}" for o in outputs[start:])
            raise AssertionError(f"user {self.id}: expected no output, got:\n{new}")

    async def expect_answer(self, contains: str | None = None, timeout: float = 5.0) -> str:
        """Text of the next answerCallbackQuery for one of this user's presses."""
        answers = self.fake._answers

        def find() -> JSON | None:
            while self._answer_cursor < len(answers):
                answer = answers[self._answer_cursor]
                self._answer_cursor += 1
                if str(answer["callback_query_id"]) in self._callback_ids and (
                    contains is None or contains in answer.get("text", "")
                ):
                    return answer
            return None

        if (found := await self.fake._wait(find, timeout)) is None:
            mine = [
                a.get("text", "")
                for a in answers
                if str(a["callback_query_id"]) in self._callback_ids
            ]
            raise AssertionError(
                f"user {self.id}: no callback answer containing {contains!r} "
                f"within {timeout}s; answers so far: {mine}"
            )
        return str(found.get("text", ""))
