"""Headless Debian Chromium driven over the Chrome DevTools protocol (a websocket), for tests
that click through a page rather than only read its DOM."""

import asyncio
import contextlib
import itertools
import json
import os
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
    # A fake microphone that needs no permission prompt, for MediaRecorder.
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
)


class Page:
    """One tab: evaluate JavaScript in it and wait for conditions."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        async for message in self.ws:
            reply = json.loads(message.data)
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply["result"])
        raise AssertionError("the browser closed the connection")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def choose_files(self, selector: str, *paths: Path) -> None:
        """What a person picking files in the file input at `selector` does."""
        root = (await self.send("DOM.getDocument"))["root"]["nodeId"]
        node = (await self.send("DOM.querySelector", nodeId=root, selector=selector))["nodeId"]
        await self.send("DOM.setFileInputFiles", files=[str(p) for p in paths], nodeId=node)

    async def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """The expression's value once it is truthy, polled every 0.2 s; on a timeout, the
        expression and what the page showed, so that a failure in CI says what was missing."""
        try:
            async with asyncio.timeout(timeout):
                while not (value := await self.evaluate(expression)):
                    await asyncio.sleep(0.2)
        except TimeoutError:
            shown = str(await self.evaluate("document.body.innerText"))
            raise AssertionError(
                f"not true within {timeout} s: {expression}\nthe page showed:\n{shown[-4000:]}"
            ) from None
        return value


async def _devtools_port(profile: Path, process: asyncio.subprocess.Process) -> int:
    """Chromium writes the port it picked to DevToolsActivePort in its profile."""
    marker = profile / "DevToolsActivePort"
    async with asyncio.timeout(30):
        while not marker.exists() or not marker.read_text().strip():
            if process.returncode is not None:
                raise AssertionError("chromium exited at start")
            await asyncio.sleep(0.1)
    return int(marker.read_text().split()[0])


@contextlib.asynccontextmanager
async def chromium_page(url: str) -> AsyncIterator[Page]:
    """A headless Chromium with a throwaway profile, its one tab opened at `url`."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            "chromium",
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its helpers share its process group: stop them all
        )
        try:
            port = await _devtools_port(Path(profile), process)
            async with aiohttp.ClientSession() as http:
                async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                    targets = await response.json()
                tab = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = Page(ws)
                    await page.send("Page.navigate", url=url)
                    yield page
        finally:
            await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to Chromium's process group, then wait (10 s at most, then SIGKILL) until every
    helper has gone too: one still writing to the profile as it is removed made the removal
    fail ("Directory not empty: 'Default'")."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    await process.wait()
    try:
        async with asyncio.timeout(10):
            while _running_in_group(process.pid):
                await asyncio.sleep(0.1)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _running_in_group(group: int) -> bool:
    """Whether a process of this group still runs (zombies aside: they write nothing)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                return True
    return False
