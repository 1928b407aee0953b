"""Voice intake: decoding Telegram-style audio, silence, the model grammar, and name matching.

Speech is synthesised with espeak-ng (a Debian package CI installs) and encoded to OGG/Opus
the way Telegram sends voice notes. The ~0.5 GB model is loaded once for the module.
"""

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped, unused-ignore]

from bot.intake.speech import (
    Audio,
    AudioError,
    Interrupted,
    SpeechModel,
    Vocabulary,
    best_match,
    decode_audio,
    is_silent,
)
from tests.audio import DEPARTMENTS, DEVICES, LOCATIONS, needs_speech_tools, ogg_opus, speech
from tests.conftest import repairbot

pytestmark = needs_speech_tools


@pytest.fixture(scope="module")
def model() -> Iterator[SpeechModel]:
    yield SpeechModel()


@pytest.fixture(scope="module")
def vocabulary(model: SpeechModel) -> Vocabulary:
    return model.vocabulary(DEPARTMENTS + DEVICES + LOCATIONS)


def test_voice_note_is_transcribed(model: SpeechModel) -> None:
    audio = decode_audio(speech("응급실 모니터가 안 켜져요", rate=48_000), max_seconds=60)
    assert 1.0 < audio.seconds < 10.0
    assert len(audio.pcm) == round(audio.seconds * 16_000) * 2
    assert not is_silent(audio)
    assert model.transcribe(audio).strip()


def test_a_stop_cuts_a_transcription_off(model: SpeechModel, vocabulary: Vocabulary) -> None:
    audio = decode_audio(speech("응급실 모니터가 안 켜져요"), max_seconds=60)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Interrupted):
        model.transcribe(audio, stop)
    with pytest.raises(Interrupted):
        model.transcribe_with(audio, vocabulary, stop)
    assert model.transcribe(audio, threading.Event()).strip(), "a recognizer cut off is not kept"


@pytest.mark.parametrize(
    ("text", "department", "device"),
    [
        ("내과 병동 스캐너가 안 켜져요", "내과 병동", "스캐너"),
        ("소아과 키오스크가 꺼져 있어요", "소아과", "키오스크"),
        ("원무과 접수창구 전화기가 안 돼요", "원무과", "전화기"),
    ],
)
def test_grammar_pass_prefills_department_and_device(
    model: SpeechModel, vocabulary: Vocabulary, text: str, department: str, device: str
) -> None:
    audio = decode_audio(speech(text), max_seconds=60)
    passes = [model.transcribe(audio), model.transcribe_with(audio, vocabulary)]
    assert best_match(passes, DEPARTMENTS, 75) == (department, 100.0)
    assert best_match(passes, DEVICES, 75) == (device, 100.0)


def test_vocabulary_respells_and_reports_missing(
    model: SpeechModel, vocabulary: Vocabulary
) -> None:
    assert not model.knows("내과")
    assert model.knows("내") and model.knows("과")
    assert vocabulary.respelled["내과"] == "내 과"
    assert "내 과 병동" in vocabulary.spellings
    assert vocabulary.missing == ()

    invented = model.vocabulary(["ㄲㅉㅃ 프린터", "CT실", "m404"])
    assert "ㄲㅉㅃ" in invented.missing  # bare jamo: nothing in the model spells them
    assert "m404" in invented.missing
    assert invented.spellings[0] == "프린터"  # the rest of the phrase survives
    assert invented.respelled["CT실"] == "CT 실"
    assert "ㄲ" not in invented.grammar


def test_vocabulary_build_is_model_independent() -> None:
    known = {"내", "과", "병동", "간호", "간호사", "실", "사실"}.__contains__
    vocabulary = Vocabulary.build(["내과  병동", "간호사실", "내과 병동", "X선"], known)
    assert vocabulary.phrases == ("내과 병동", "간호사실", "X선")
    assert vocabulary.spellings == ("내 과 병동", "간호 사실", "")
    assert vocabulary.missing == ("X선",)
    assert vocabulary.grammar == '["내 과 병동", "간호 사실"]'


def test_best_match_is_cautious() -> None:
    # Spacing is ignored, and a one-jamo slip still matches.
    found = best_match("내과병동 프린더가 고장", DEVICES, 75)
    assert found is not None and found[0] == "프린터" and 80 < found[1] < 100
    assert best_match("내과병동 프린터", DEPARTMENTS, 75) == ("내과 병동", 100.0)
    # A dropped syllable that fits two departments equally is ambiguous, not a guess.
    assert best_match("과 병동", DEPARTMENTS, 75) is None
    # A fragment shorter than the name does not count as the name.
    assert best_match("과", ["내과"], 75) is None
    # The longer of two nested names wins.
    assert best_match("바코드 리더기", ["리더기", "바코드 리더기"], 75) == ("바코드 리더기", 100.0)
    assert best_match(["", "  "], DEVICES, 0) is None


def test_silence_is_silent() -> None:
    rate = 48_000
    quiet = np.random.default_rng(1).normal(0, 0.001, rate * 2).astype(np.float32)
    audio = decode_audio(ogg_opus(quiet, rate), max_seconds=60)
    assert audio.seconds == pytest.approx(2.0, abs=0.05)
    assert is_silent(audio)
    assert is_silent(Audio(pcm=b"", seconds=0.0))


@pytest.mark.parametrize("data", [b"", b"not audio at all" * 100, b"OggS" + bytes(500)])
def test_garbage_raises_audio_error(data: bytes) -> None:
    with pytest.raises(AudioError):
        decode_audio(data, max_seconds=60)


def test_truncated_voice_note_raises_or_decodes_short() -> None:
    data = speech("응급실 모니터")
    try:
        audio = decode_audio(data[: len(data) // 2], max_seconds=60)
    except AudioError:
        return
    assert audio.seconds < decode_audio(data, max_seconds=60).seconds


def test_too_long_audio_is_refused() -> None:
    rate = 16_000
    tone = (0.1 * np.sin(np.arange(rate * 5) * 0.05)).astype(np.float32)
    data = ogg_opus(tone, rate)
    assert decode_audio(data, max_seconds=6).seconds == pytest.approx(5.0, abs=0.05)
    with pytest.raises(AudioError, match=r"longer|limit"):
        decode_audio(data, max_seconds=3)
    wav = io.BytesIO()
    soundfile.write(wav, tone, rate, format="WAV")
    with pytest.raises(AudioError):
        decode_audio(wav.getvalue(), max_seconds=3)


def test_transcribe_command(tmp_path: Path) -> None:
    """`repairbot transcribe`: plain and grammar passes, per file; bad files reported."""
    (tmp_path / "clip.ogg").write_bytes(speech("원무과 전화기가 안 돼요"))
    (tmp_path / "junk.wav").write_bytes(b"RIFF nonsense")
    (tmp_path / "d.csv").write_text("name,zone,priority\n원무과,A,0\n")
    assert repairbot(tmp_path, "import", "departments", "d.csv").returncode == 0
    done = repairbot(tmp_path, "transcribe", "--grammar", "clip.ogg", "junk.wav")
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert lines[0].startswith("clip.ogg: ") and len(lines[0]) > len("clip.ogg: ")
    assert lines[1].startswith("clip.ogg: grammar: ") and "원무과" in lines[1].replace(" ", "")
    assert lines[2].startswith("junk.wav: error: ")
