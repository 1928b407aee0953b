"""The webhook's request handler, which stops taking updates when its replica stops."""

from typing import Any

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler answers a post at once and handles the update in the background, so an
    update taken while the replica stops could be cut off by the exit. After `stop_taking()`
    posts get 503 instead, and Telegram posts them again later, to whichever replica is up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.taking = True

    def stop_taking(self) -> None:
        self.taking = False

    async def handle(self, request: web.Request) -> web.Response:
        if not self.taking:
            return web.Response(status=503, text="stopping")
        return await super().handle(request)
