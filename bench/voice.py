"""Benchmark of voice-message intake: accuracy, speed, memory and event-loop impact.

Synthesises Korean hospital fault reports with espeak-ng at three speaking rates, encodes
them to OGG/Opus as Telegram does, and runs them through bot.intake.speech:

    python bench/voice.py [--rates 140,175,210] [--cutoff 75] [--verbose]

espeak-ng's Korean voice is robotic, so absolute error rates say little about real ward
staff; what the bench shows is the relative value of the grammar pass and name matching,
and the costs (load, first use, real-time factor, memory, loop lag) that shape deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.intake.speech import (  # noqa: E402
    Audio,
    SpeechModel,
    best_match,
    decode_audio,
    is_silent,
)
from tests.audio import DEPARTMENTS, DEVICES, LOCATIONS, speech  # noqa: E402

MODELS = ["LaserJet M404", "삼성 S24", "PACS 뷰어"]  # asset models: shows re-spelling / missing

# Everyday words of a fault report, all in the model's vocabulary: with --fillers they join the
# grammar so that speech around the names has somewhere to go other than a wrong name.
FILLERS = [
    "가",
    "이",
    "에",
    "에서",
    "고장",
    "났어요",
    "안",
    "돼요",
    "오류",
    "화면",
    "전원",
    "종이",
    "요",
]

# (spoken text, department, device type)
PHRASES: list[tuple[str, str, str]] = [
    ("내과 병동 간호사실 프린터가 고장났어요", "내과 병동", "프린터"),
    ("응급실 모니터가 안 켜져요", "응급실", "모니터"),
    ("원무과 키오스크 카드 리더기 오류", "원무과", "키오스크"),
    ("외과 병동 컴퓨터가 너무 느려요", "외과 병동", "컴퓨터"),
    ("중환자실 전화기가 안 돼요", "중환자실", "전화기"),
    ("소아과 접수창구 프린터 용지가 걸렸어요", "소아과", "프린터"),
    ("영상의학과 모니터 화면이 깜빡거려요", "영상의학과", "모니터"),
    ("약제부 바코드 리더기가 인식을 못 해요", "약제부", "바코드 리더기"),
    ("응급실 접수창구 컴퓨터가 꺼졌어요", "응급실", "컴퓨터"),
    ("원무과 프린터에서 종이가 안 나와요", "원무과", "프린터"),
    ("내과 병동 전화기 소리가 안 들려요", "내과 병동", "전화기"),
    ("외과 병동 간호사실 모니터가 고장났어요", "외과 병동", "모니터"),
    ("중환자실 바코드 리더기가 안 읽혀요", "중환자실", "바코드 리더기"),
    ("소아과 컴퓨터 전원이 안 들어와요", "소아과", "컴퓨터"),
    ("영상의학과 스캐너가 작동을 안 해요", "영상의학과", "스캐너"),
    ("약제부 프린터 잉크가 없어요", "약제부", "프린터"),
    ("응급실 키오스크 화면이 멈췄어요", "응급실", "키오스크"),
    ("원무과 스캐너 오류가 나요", "원무과", "스캐너"),
    ("수술실 모니터가 안 나와요 중환자실이에요", "중환자실", "모니터"),
    ("외과 병동 전화기가 고장났어요", "외과 병동", "전화기"),
    ("내과 병동 컴퓨터가 부팅이 안 돼요", "내과 병동", "컴퓨터"),
    ("소아과 키오스크가 꺼져 있어요", "소아과", "키오스크"),
    ("영상의학과 프린터가 인쇄를 안 해요", "영상의학과", "프린터"),
    ("약제부 모니터가 깨졌어요", "약제부", "모니터"),
    ("응급실 바코드 리더기 고장이에요", "응급실", "바코드 리더기"),
    ("원무과 접수창구 전화기가 안 돼요", "원무과", "전화기"),
    ("중환자실 간호사실 컴퓨터 오류", "중환자실", "컴퓨터"),
    ("내과 병동 스캐너가 안 켜져요", "내과 병동", "스캐너"),
    ("외과 병동 바코드 리더기가 안 돼요", "외과 병동", "바코드 리더기"),
    ("소아과 모니터 화면이 안 나와요", "소아과", "모니터"),
]


@dataclass
class Clip:
    text: str
    department: str
    device: str
    rate: int
    audio: Audio


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate with spaces removed (Korean ASR spacing is arbitrary)."""
    ref = "".join(reference.split())
    hyp = "".join(hypothesis.split())
    return Levenshtein.distance(ref, hyp) / max(len(ref), 1)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def loop_lag_while(
    work: list[Audio], model: SpeechModel, vocabulary_phrases: list[str]
) -> tuple[float, float, float]:
    """Max lateness of a 10 ms ticker while two messages decode in a 2-thread pool."""
    vocabulary = model.vocabulary(vocabulary_phrases)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    lags: list[float] = []

    async def ticker() -> None:
        expected = loop.time() + 0.01
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = loop.time()
            lags.append(now - expected)
            expected = now + 0.01

    def message(audio: Audio) -> tuple[str, str]:
        return model.transcribe(audio), model.transcribe_with(audio, vocabulary)

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, message, audio) for audio in work))
    wall = time.perf_counter() - start
    done.set()
    await tick
    return max(lags), float(np.percentile(lags, 99)), wall


def timed(fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main() -> None:  # noqa: PLR0915 - one linear script, easier to read unsplit
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="140,175,210")
    parser.add_argument("--cutoff", type=float, default=75.0)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--fillers", action="store_true", help="add everyday words to the grammar to soak up speech"
    )
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]

    # --- audio -------------------------------------------------------------------------
    start = time.perf_counter()
    clips: list[Clip] = []
    ogg_bytes = 0
    decode_time = 0.0
    for text, department, device in PHRASES:
        for rate in rates:
            data = speech(text, speed=rate)
            ogg_bytes += len(data)
            audio, spent = timed(decode_audio, data, 120.0)
            decode_time += spent
            clips.append(Clip(text, department, device, rate, audio))
    audio_seconds = sum(c.audio.seconds for c in clips)
    print(
        f"synthesised {len(clips)} clips, {audio_seconds:.1f} s of audio, "
        f"{ogg_bytes / 1024:.0f} KiB OGG/Opus in {time.perf_counter() - start:.1f} s; "
        f"decode+resample {decode_time / len(clips) * 1000:.1f} ms/clip"
    )
    silent = sum(is_silent(c.audio) for c in clips)
    print(f"clips flagged silent (should be 0): {silent}")

    # --- model -------------------------------------------------------------------------
    rss_before = rss_mb()
    model, load_time = timed(SpeechModel)
    rss_loaded = rss_mb()
    vocabulary = model.vocabulary(
        DEPARTMENTS + DEVICES + LOCATIONS + MODELS + (FILLERS if args.fillers else [])
    )
    print(f"grammar: {vocabulary.grammar}")
    print(f"re-spelled: {vocabulary.respelled}")
    print(f"missing (left out of the grammar): {list(vocabulary.missing)}")

    probe = clips[0].audio
    _, plain_first = timed(model.transcribe, probe)
    _, plain_again = timed(model.transcribe, probe)
    other = clips[len(rates)].audio
    _, plain_other = timed(model.transcribe, other)
    _, grammar_first = timed(model.transcribe_with, probe, vocabulary)
    _, grammar_again = timed(model.transcribe_with, probe, vocabulary)
    rss_warm = rss_mb()

    # --- accuracy ----------------------------------------------------------------------
    plain_cer: list[float] = []
    grammar_cer: list[float] = []
    plain_time = grammar_time = 0.0
    hits = {key: [0, 0, 0] for key in ("dept plain", "dept both", "device plain", "device both")}

    def score(key: str, found: tuple[str, float] | None, truth: str) -> None:
        if found is None:
            hits[key][2] += 1
        elif found[0] == truth:
            hits[key][0] += 1
        else:
            hits[key][1] += 1

    per_rate: dict[int, list[float]] = {rate: [] for rate in rates}
    for clip in clips:
        plain, spent = timed(model.transcribe, clip.audio)
        plain_time += spent
        grammar, spent = timed(model.transcribe_with, clip.audio, vocabulary)
        grammar_time += spent
        plain_cer.append(cer(clip.text, plain))
        grammar_cer.append(cer(clip.text, grammar))
        per_rate[clip.rate].append(plain_cer[-1])
        dept_plain = best_match(plain, DEPARTMENTS, args.cutoff)
        dept_both = best_match([plain, grammar], DEPARTMENTS, args.cutoff)
        dev_plain = best_match(plain, DEVICES, args.cutoff)
        dev_both = best_match([plain, grammar], DEVICES, args.cutoff)
        score("dept plain", dept_plain, clip.department)
        score("dept both", dept_both, clip.department)
        score("device plain", dev_plain, clip.device)
        score("device both", dev_both, clip.device)
        if args.verbose:
            print(
                f"[{clip.rate}] {clip.text}\n   plain:   {plain}\n   grammar: {grammar}\n"
                f"   dept {dept_both}  device {dev_both}"
            )

    # --- concurrency -------------------------------------------------------------------
    long_messages = []
    for offset in (0, 1):
        pcm = b"".join(c.audio.pcm for c in clips[offset * 15 : offset * 15 + 15 : 3])
        long_messages.append(Audio(pcm, len(pcm) / 32_000))
    max_lag, p99_lag, wall = asyncio.run(
        loop_lag_while(long_messages, model, DEPARTMENTS + DEVICES + LOCATIONS + MODELS)
    )
    serial_audio = sum(a.seconds for a in long_messages)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # --- summary -----------------------------------------------------------------------
    n = len(clips)

    def rate(key: str) -> str:
        right, wrong, empty = hits[key]
        return f"{right / n:6.1%} right  {wrong:3d} wrong  {empty:3d} empty"

    rows = [
        ("clips (phrases x rates)", f"{len(PHRASES)} x {rates} = {n}, {audio_seconds:.0f} s"),
        ("CER plain pass", f"{np.mean(plain_cer):.1%} (median {np.median(plain_cer):.1%})"),
        *[(f"  CER plain @ -s {r}", f"{np.mean(v):.1%}") for r, v in per_rate.items()],
        ("CER grammar pass", f"{np.mean(grammar_cer):.1%} (vocabulary words only, by design)"),
        (f"department, plain only (cutoff {args.cutoff:g})", rate("dept plain")),
        ("department, plain + grammar", rate("dept both")),
        ("device type, plain only", rate("device plain")),
        ("device type, plain + grammar", rate("device both")),
        ("RTF plain pass (warm)", f"{plain_time / audio_seconds:.3f}"),
        ("RTF grammar pass (warm)", f"{grammar_time / audio_seconds:.3f}"),
        ("model load", f"{load_time:.2f} s"),
        (
            "plain: first use / reuse / other clip",
            f"{plain_first:.2f} s / {plain_again:.2f} s / "
            f"{plain_other:.2f} s  ({probe.seconds:.1f} s clip)",
        ),
        ("grammar: first use / reuse", f"{grammar_first:.2f} s / {grammar_again:.2f} s"),
        (
            "RSS before / after load / warm",
            f"{rss_before:.0f} / {rss_loaded:.0f} / {rss_warm:.0f} MiB",
        ),
        ("peak RSS (after 2 concurrent)", f"{peak:.0f} MiB"),
        ("2 concurrent messages", f"{serial_audio:.0f} s audio, both passes, {wall:.1f} s wall"),
        ("  event-loop lag max / p99", f"{max_lag * 1000:.1f} ms / {p99_lag * 1000:.1f} ms"),
    ]
    width = max(len(label) for label, _ in rows)
    print()
    print("=" * (width + 50))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("=" * (width + 50))


if __name__ == "__main__":
    main()
