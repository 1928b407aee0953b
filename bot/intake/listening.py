"""From a voice message to a draft report: one Vosk model per process, loaded on first use,
all CPU work in the executor so text messages are answered meanwhile."""

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from bot.intake.speech import Audio, SpeechModel, Vocabulary, best_match, decode_audio, is_silent

log = logging.getLogger(__name__)
DEPARTMENT_CUTOFF = 75.0
DEVICE_CUTOFF = 75.0


@dataclass(frozen=True)
class HospitalNames:
    """The words a grammar pass listens for: what exists in this hospital's database."""

    departments: tuple[str, ...]
    device_types: tuple[str, ...]
    extras: tuple[str, ...]  # models and locations: help the grammar, not matched

    @property
    def phrases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.departments, *self.device_types, *self.extras)))


@dataclass(frozen=True)
class Heard:
    text: str
    department: str | None
    device_type: str | None
    seconds: float


class NothingHeard(Exception):
    """Silence, or sound in which the model found no words."""


class Transcriber:
    def __init__(self, cpu: Executor, model_path: str | None = None) -> None:
        self.cpu = cpu
        self.model_path = model_path
        self._model: SpeechModel | None = None
        self._vocabulary: tuple[tuple[str, ...], Vocabulary] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def interrupt(self) -> None:
        """Cut off the transcriptions running now and any to come (Interrupted): the process
        is stopping, and the executor's threads must not hold its exit up."""
        self._stopping.set()

    def _ready(self, phrases: tuple[str, ...]) -> tuple[SpeechModel, Vocabulary]:
        with self._lock:
            if self._model is None:
                self._model = SpeechModel(self.model_path)
            if self._vocabulary is None or self._vocabulary[0] != phrases:
                vocabulary = self._model.vocabulary(phrases)
                if vocabulary.missing:
                    log.warning(
                        "speech grammar: the model lacks %s; left out",
                        ", ".join(vocabulary.missing),
                    )
                self._vocabulary = (phrases, vocabulary)
            return self._model, self._vocabulary[1]

    def _listen(self, data: bytes, max_seconds: float, names: HospitalNames) -> Heard:
        audio: Audio = decode_audio(data, max_seconds)
        if is_silent(audio):
            raise NothingHeard()
        model, vocabulary = self._ready(names.phrases)
        plain = model.transcribe(audio, self._stopping)
        guided = model.transcribe_with(audio, vocabulary, self._stopping)
        if not plain.strip():
            raise NothingHeard()
        passes: Sequence[str] = (plain, guided)
        department = best_match(passes, names.departments, DEPARTMENT_CUTOFF)
        device = best_match(passes, names.device_types, DEVICE_CUTOFF)
        return Heard(
            plain.strip(),
            department[0] if department else None,
            device[0] if device else None,
            audio.seconds,
        )

    async def listen(self, data: bytes, max_seconds: float, names: HospitalNames) -> Heard:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.cpu, self._listen, data, max_seconds, names)
