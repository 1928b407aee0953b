"""Event-loop lag while the app decodes QR photos and transcribes voice messages.

    python bench/loop_lag.py [--photos 40] [--voices 8] [--every 0.15] [--database-url URL]

The real app long-polls the fake Bot API (tests/fake_telegram.py, on loopback). Ward users send
photos of QR codes (read from /work/shared/qr-photos, real phone photos and generated codes,
230 KB - 1.3 MB) and Korean voice messages (tests/audio.py: espeak-ng, OGG/Opus), one message
every --every seconds, interleaved; meanwhile a ticker measures how late a 10 ms sleep wakes up.
The first voice message loads the speech model (about 0.5 GB); it is sent alone first and its
lag reported apart. Prints max and p99 lag (target < 100 ms) and how many photos and voice
messages were answered. SQLite by default; --database-url names a PostgreSQL server on which a
throwaway database is made and dropped. Fake server, users and bot share one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path

import soundfile  # type: ignore[import-untyped, unused-ignore]
from harness import (
    ACK,
    Sent,
    backend,
    pct,
    rss_mib,
    run_on_database,
    running,
    seed,
    table,
    text,
)

from tests.audio import speech
from tests.fake_telegram import ApiCall, FakeTelegram

QR_PHOTOS = Path("/work/shared/qr-photos")
PHRASES = [
    "원무과 접수창구 전화기가 안 돼요",
    "내과 병동 간호사실 프린터가 고장났어요",
    "응급실 모니터가 안 켜져요",
    "중환자실 컴퓨터가 너무 느려요",
]
PHOTO_USERS, VOICE_USERS = 210_000, 220_000
HEARD = ("들은 내용", "알아듣지 못했습니다", "읽을 수 없습니다", "너무 깁니다")
"""Every answer to a voice message: the transcript, or why there is none."""


class Ticker:
    """How late a 10 ms sleep wakes up, sample by sample."""

    def __init__(self) -> None:
        self.lags: list[tuple[float, float]] = []  # (loop time, lag in s)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        expected = loop.time() + 0.01
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            self.lags.append((now, now - expected))
            expected = now + 0.01

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def between(self, start: float, end: float) -> list[float]:
        return [lag for at, lag in self.lags if start <= at <= end]


def photos(count: int) -> list[tuple[str, bytes]]:
    files = sorted(
        p for p in QR_PHOTOS.glob("*/*") if p.suffix.lower() in {".png", ".jpg", ".webp"}
    )
    step = max(1, len(files) // count)
    return [(f"{p.parent.name}/{p.name}", p.read_bytes()) for p in files[::step][:count]]


def voices(count: int) -> list[tuple[str, bytes, int]]:
    clips = []
    for n in range(count):
        data = speech(PHRASES[n % len(PHRASES)], speed=150 + 10 * (n % 4))
        info = soundfile.info(io.BytesIO(data))
        clips.append((PHRASES[n % len(PHRASES)], data, int(info.duration) + 1))
    return clips


async def wait_for(
    sent: Sent, chats: set[int], test: Callable[[str], bool], timeout: float
) -> list[ApiCall]:
    """The calls to `chats` passing `test`, once each chat has one (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = {c.params["chat_id"] for c in sent.matching(chats, test)}
        if answered >= chats:
            break
        await asyncio.sleep(0.05)
    return sent.matching(chats, test)


def answered_voice(reply: str) -> bool:
    return any(h in reply for h in HEARD)


def lag_row(lags: list[float]) -> str:
    if not lags:
        return "no samples"
    over = sum(1 for lag in lags if lag > 0.1)
    return (
        f"max {max(lags) * 1000:.0f} ms, p99 {pct(lags, 99) * 1000:.1f} ms, "
        f"p50 {pct(lags, 50) * 1000:.1f} ms, {over} of {len(lags)} ticks over 100 ms"
    )


async def bench(url: str, args: argparse.Namespace) -> None:
    pictures, clips = photos(args.photos), voices(args.voices + 1)
    photo_users = [PHOTO_USERS + n for n in range(len(pictures))]
    voice_users = [VOICE_USERS + n for n in range(len(clips))]
    await seed(url, photo_users + voice_users)
    loop = asyncio.get_running_loop()
    async with FakeTelegram() as tg, running(url, tg):
        ticker = Ticker()
        ticker.start()
        sent = Sent(tg)
        # The speech model loads on the first voice message: measured on its own.
        cold_start = loop.time()
        _, first_data, first_duration = clips[0]
        await tg.user(voice_users[0]).send_voice(duration=first_duration, data=first_data)
        await wait_for(sent, {voice_users[0]}, answered_voice, args.timeout)
        cold_end = loop.time()
        cold_rss = rss_mib()[0]
        # The mix: photos with a voice message in between every few.
        mix: list[tuple[str, int, object]] = [
            ("photo", u, p) for u, p in zip(photo_users, pictures, strict=True)
        ]
        gap = max(1, len(mix) // max(1, len(clips) - 1))
        for n, (user, clip) in enumerate(zip(voice_users[1:], clips[1:], strict=True)):
            mix.insert(min(len(mix), (n + 1) * gap + n), ("voice", user, clip))
        start = loop.time()
        for n, (kind, user, item) in enumerate(mix):
            await asyncio.sleep(max(0.0, start + n * args.every - loop.time()))
            if kind == "photo":
                _, data = item  # type: ignore[misc]
                caption = "라벨 사진입니다, 장비 고장" if n % 2 else None
                await tg.user(user).send_photo(data, caption=caption)
            else:
                _, data, duration = item  # type: ignore[misc]
                await tg.user(user).send_voice(duration=duration, data=data)
        photo_acks = await wait_for(sent, set(photo_users), lambda t: ACK in t, args.timeout)
        heard = await wait_for(sent, set(voice_users[1:]), answered_voice, args.timeout)
        end = loop.time()
        await ticker.stop()
    photos_done = len({c.params["chat_id"] for c in photo_acks})
    voices_done = len({c.params["chat_id"] for c in heard})
    understood = len({c.params["chat_id"] for c in heard if "들은 내용" in text(c)})
    worst = sorted(ticker.between(start, end), reverse=True)[:5]
    table(
        [
            ("backend", backend(url)),
            ("cold start: first voice (model load)", f"{cold_end - cold_start:.1f} s"),
            ("  loop lag meanwhile", lag_row(ticker.between(cold_start, cold_end))),
            ("  RSS with the model loaded", f"{cold_rss:.0f} MiB"),
            (
                "mix sent",
                f"{len(pictures)} photos + {len(clips) - 1} voices, one every {args.every:g} s",
            ),
            ("photos answered (ticket acked)", f"{photos_done} / {len(pictures)}"),
            (
                "voices answered (transcript)",
                f"{voices_done} / {len(clips) - 1} ({understood} heard)",
            ),
            ("mix handled in", f"{end - start:.1f} s"),
            ("loop lag during the mix", lag_row(ticker.between(start, end))),
            ("  worst five", ", ".join(f"{lag * 1000:.0f}" for lag in worst) + " ms"),
            ("target", "max < 100 ms"),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--voices", type=int, default=8)
    parser.add_argument("--every", type=float, default=0.15, help="seconds between messages")
    parser.add_argument("--timeout", type=float, default=300.0)
    run_on_database(parser, bench)


if __name__ == "__main__":
    main()
