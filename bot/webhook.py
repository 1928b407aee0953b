"""The webhook's request handler, which stops taking updates when its replica stops."""

from typing import Any

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.web.health import Health


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler answers a post at once and handles the update in the background, so an
    update taken while the replica stops could be cut off by the exit. Once `health` says the
    replica stops serving, posts get 503 instead, and Telegram posts them again later, to
    whichever replica is up."""

    def __init__(self, *args: Any, health: Health, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.health = health

    async def handle(self, request: web.Request) -> web.Response:
        if not self.health.serving:
            return web.Response(status=503, text="stopping")
        return await super().handle(request)
