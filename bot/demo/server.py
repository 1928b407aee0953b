"""The demo page's web side: the page, a small JSON API that plays the three people on the
emulated Telegram, the files in their chats, and the bot's dashboard passed through on the same
origin (so the page can show it in a frame and refresh it)."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.app import App
from bot.demo.hospital import SUPERVISOR, Person
from bot.demo.voice import BadRecording, to_voice_note
from bot.emulator.telegram import BOT_USER, FakeTelegram, FakeUser
from bot.i18n import Translator
from bot.models import Staff
from bot.web.links import sign
from bot.web.server import _json

LONG_POLL = 20.0
MAX_UPLOAD = 20 * 1024 * 1024
_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (b"OggS", "audio/ogg"))
_PASSED_HEADERS = ("Content-Type", "Content-Disposition", "Location", "Cache-Control")


def _buttons(message: dict[str, Any]) -> list[list[dict[str, str]]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [
        [{"text": b["text"], "data": b.get("callback_data") or ""} for b in row] for row in rows
    ]


def bubble(message: dict[str, Any]) -> dict[str, Any]:
    """What the page draws of one message: text, buttons and any attached file."""
    photo = message.get("photo")
    files = {
        "photo": max(photo, key=lambda p: p.get("width", 0))["file_id"] if photo else None,
        "voice": (message.get("voice") or {}).get("file_id"),
        "document": (message.get("document") or {}).get("file_id"),
    }
    return {
        "id": message["message_id"],
        "mine": message["from"]["id"] != BOT_USER["id"],
        "text": message.get("text", message.get("caption", "")),
        "buttons": _buttons(message),
        "edited": "edit_date" in message,
        **{kind: file_id for kind, file_id in files.items() if file_id},
    }


class DemoSite:
    """Routes over the emulator and the running app; one user per person on the page."""

    def __init__(self, telegram: FakeTelegram, app: App, people: Sequence[Person]) -> None:
        self.telegram = telegram
        self.app = app
        self.people = people
        language = app.settings.default_language
        self.users = {p.telegram_id: telegram.user(p.telegram_id, p.name, language) for p in people}
        self.http: aiohttp.ClientSession | None = None

    def user(self, request: web.Request) -> FakeUser:
        try:
            return self.users[int(request.match_info["user"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound(text="No such person in the demo.") from None

    async def page(self, request: web.Request) -> web.StreamResponse:
        html = resources.files("bot.demo").joinpath("static/demo.html").read_text("utf-8")
        t = Translator(self.app.settings.default_language)
        people = [
            {"id": p.telegram_id, "name": p.name, "role": t(f"demo.{p.role}")} for p in self.people
        ]
        config = {"labels": t.section("demo"), "people": people, "dashboard": await self._link()}
        html = html.replace("__LANG__", t.language).replace("__TITLE__", t("demo.title"))
        html = html.replace("__CONFIG__", _json(config))
        return web.Response(text=html, content_type="text/html")

    async def _link(self) -> str:
        """A fresh signed dashboard link of the demo supervisor, as /dashboard would give."""
        async with self.app.sessionmaker() as session:
            staff_id = await session.scalar(
                select(Staff.id).where(Staff.telegram_id == SUPERVISOR.telegram_id)
            )
        settings = self.app.settings
        token = sign(
            settings.link_secret(), staff_id or 0, self.app.clock.now(), settings.dashboard_link_ttl
        )
        return f"/dashboard?t={token}"

    async def state(self, request: web.Request) -> web.StreamResponse:
        """Every chat as it is now, once the revision is past `after` (a long poll)."""
        try:
            after = int(request.query.get("after", "-1"))
        except ValueError:
            raise web.HTTPBadRequest(text="after must be a number") from None
        revision = await self.telegram.wait_revision(after, LONG_POLL)
        chats = {
            str(uid): {
                "messages": [bubble(m) for m in self.telegram.chat_messages(uid)],
                "toasts": [text for text in user.answers if text],
            }
            for uid, user in self.users.items()
        }
        return web.json_response({"revision": revision, "chats": chats})

    async def text(self, request: web.Request) -> web.StreamResponse:
        user = self.user(request)
        text = str((await request.json()).get("text", "")).strip()
        if not text:
            raise web.HTTPBadRequest(text="Nothing to send.")
        await user.send_text(text[:4096])
        return web.json_response({"ok": True})

    async def press(self, request: web.Request) -> web.StreamResponse:
        user = self.user(request)
        body = await request.json()
        try:
            await user.press_button(int(body["message_id"]), str(body["data"]))
        except (KeyError, TypeError, ValueError, LookupError):
            raise web.HTTPBadRequest(text="No such button.") from None
        return web.json_response({"ok": True})

    async def photo(self, request: web.Request) -> web.StreamResponse:
        user = self.user(request)
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise web.HTTPBadRequest(text="Send the picture as the 'photo' field.")
        caption = str(form.get("caption", "")).strip() or None
        await user.send_photo(upload.file.read(), caption)
        return web.json_response({"ok": True})

    async def voice(self, request: web.Request) -> web.StreamResponse:
        """The page's recording (WAV), sent as a Telegram voice note."""
        user = self.user(request)
        data = await request.read()
        loop = asyncio.get_running_loop()
        try:
            note, seconds = await loop.run_in_executor(self.app.cpu, to_voice_note, data)
        except BadRecording as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        await user.send_voice(seconds, note)
        return web.json_response({"ok": True, "seconds": seconds})

    async def file(self, request: web.Request) -> web.StreamResponse:
        data = self.telegram.files.get(request.match_info["file_id"])
        if data is None:
            raise web.HTTPNotFound()
        kind = next((k for magic, k in _MAGIC if data.startswith(magic)), None)
        return web.Response(body=data, content_type=kind or "application/octet-stream")

    async def dashboard(self, request: web.Request) -> web.StreamResponse:
        """The bot's own web server, passed through unchanged (its links are signed)."""
        assert self.http is not None
        async with self.http.get(
            f"{self.app.web_url}{request.path_qs}", allow_redirects=False
        ) as upstream:
            headers = {h: upstream.headers[h] for h in _PASSED_HEADERS if h in upstream.headers}
            return web.Response(status=upstream.status, body=await upstream.read(), headers=headers)

    async def http_session(self, _: web.Application) -> AsyncIterator[None]:
        """The client that passes dashboard requests on, for the site's lifetime."""
        self.http = aiohttp.ClientSession()
        yield
        await self.http.close()


def build_demo_app(site: DemoSite) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD)
    app.cleanup_ctx.append(site.http_session)
    app.router.add_get("/", site.page)
    app.router.add_get("/demo/api/state", site.state)
    app.router.add_post("/demo/api/{user}/text", site.text)
    app.router.add_post("/demo/api/{user}/press", site.press)
    app.router.add_post("/demo/api/{user}/photo", site.photo)
    app.router.add_post("/demo/api/{user}/voice", site.voice)
    app.router.add_get("/demo/files/{file_id}", site.file)
    app.router.add_static("/demo/static", Path(str(resources.files("bot.demo").joinpath("static"))))
    for path in ("/dashboard", "/api/dashboard", "/assets", "/assets/{code}", "/export.csv"):
        app.router.add_get(path, site.dashboard)
    app.router.add_get("/static/{name}", site.dashboard)
    return app
