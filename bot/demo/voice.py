"""Browser recordings made into what Telegram clients send: OGG/Opus voice notes.

Browsers record WebM (Chromium) or OGG (Firefox), which libsndfile cannot always read, so the
demo page decodes its recording itself and uploads 16 kHz mono WAV; this encodes it the way
the bot receives voice from Telegram, with libsndfile's Opus encoder.
"""

import io
import math

import soundfile  # type: ignore[import-untyped, unused-ignore]

OPUS_RATES = frozenset({8000, 12000, 16000, 24000, 48000})


class BadRecording(ValueError):
    """Not audio that can be made into a voice note."""


def to_voice_note(data: bytes) -> tuple[bytes, int]:
    """OGG/Opus bytes and the whole seconds they last (Telegram's `duration`)."""
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError, EOFError) as exc:
        raise BadRecording(f"cannot read the recording: {exc}") from None
    if rate not in OPUS_RATES or not len(samples):
        raise BadRecording(f"need mono audio at one of {sorted(OPUS_RATES)} Hz, got {rate} Hz")
    out = io.BytesIO()
    soundfile.write(out, samples.mean(axis=1), rate, format="OGG", subtype="OPUS")
    return out.getvalue(), max(1, math.ceil(len(samples) / rate))
