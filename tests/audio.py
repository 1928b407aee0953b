"""Korean speech for tests: espeak-ng (and sox) to OGG/Opus, as Telegram sends voice notes."""

import io
import shutil
import subprocess

import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped, unused-ignore]

DEPARTMENTS = [
    "내과 병동",
    "외과 병동",
    "응급실",
    "원무과",
    "중환자실",
    "소아과",
    "영상의학과",
    "약제부",
]
DEVICES = ["프린터", "모니터", "키오스크", "컴퓨터", "스캐너", "전화기", "바코드 리더기"]
LOCATIONS = ["간호사실", "접수창구", "수술실"]
"""A sample hospital's names, for the speech tests and bench/voice.py."""

needs_speech_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox synthesise the test speech (.ci/run installs them)",
)


def ogg_opus(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def speech(text: str, rate: int = 16_000, speed: int = 175) -> bytes:
    """Korean speech as a voice note: OGG/Opus, mono (Telegram's own are 48 kHz)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    raw = subprocess.run(
        [
            "sox",
            "-t",
            "wav",
            "-",
            "-t",
            "raw",
            "-e",
            "float",
            "-b",
            "32",
            "-c",
            "1",
            "-r",
            str(rate),
            "-",
        ],
        input=wav,
        check=True,
        capture_output=True,
    ).stdout
    return ogg_opus(np.frombuffer(raw, dtype=np.float32), rate)
