"""Compare QR decoders on the shared reference photos: decode rate and time per image.

Usage: python bench/qr_decode.py [--photos ../shared/qr-photos]

Each photo NAME.png|jpg|webp... comes with NAME.txt, the exact text its code holds; a photo
counts as decoded when that text is among what the decoder returns, character for character.
Three decoders are measured in one run so the figures are comparable:

  pyzbar   pyzbar on the grayscale image, data read as UTF-8 (what a naive integration does)
  zxing    zxing-cpp read_barcodes with default options on the grayscale image
  ours     bot.intake.qr.decode_qr

Times cover everything from the encoded bytes in memory to the texts (image decoding
included, reading the file excluded), so all three pay the same image-decoding cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from pyzbar import pyzbar

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bot.intake.qr import decode_qr  # noqa: E402

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Photo:
    folder: str
    name: str
    data: bytes
    expected: str


@dataclass
class Tally:
    hits: int = 0
    times: list[float] = field(default_factory=list)

    def row(self, total: int) -> str:
        times_ms = sorted(t * 1000 for t in self.times)
        p95 = times_ms[min(len(times_ms) - 1, round(0.95 * (len(times_ms) - 1)))]
        return (
            f"{self.hits:>4}/{total:<4}{100 * self.hits / total:6.1f} %"
            f"{statistics.median(times_ms):8.2f}{p95:8.2f}"
        )


def load_photos(root: Path) -> list[Photo]:
    photos = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for image in sorted(folder.iterdir()):
            if image.suffix.lower() in IMAGE_SUFFIXES:
                expected = image.with_suffix(".txt").read_bytes().decode("utf-8")
                photos.append(Photo(folder.name, image.name, image.read_bytes(), expected))
    return photos


def gray(data: bytes) -> npt.NDArray[np.uint8]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return np.asarray(image, dtype=np.uint8)


def pyzbar_plain(data: bytes) -> list[str]:
    return [s.data.decode("utf-8", "replace") for s in pyzbar.decode(gray(data))]


def zxing_default(data: bytes) -> list[str]:
    return [barcode.text for barcode in zxingcpp.read_barcodes(gray(data))]


DECODERS: dict[str, Callable[[bytes], list[str]]] = {
    "pyzbar": pyzbar_plain,
    "zxing": zxing_default,
    "ours": decode_qr,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=REPO_ROOT / ".." / "shared" / "qr-photos")
    args = parser.parse_args()
    photos = load_photos(args.photos.resolve())
    if not photos:
        parser.error(f"no photos under {args.photos}")

    folders = sorted({p.folder for p in photos})
    tallies = {(d, f): Tally() for d in DECODERS for f in [*folders, "TOTAL"]}
    misses: list[tuple[Photo, list[str]]] = []
    for photo in photos:
        for decoder_name, decoder in DECODERS.items():
            start = time.perf_counter()
            texts = decoder(photo.data)
            elapsed = time.perf_counter() - start
            for key in (photo.folder, "TOTAL"):
                tally = tallies[decoder_name, key]
                tally.times.append(elapsed)
                tally.hits += photo.expected in texts
            if decoder_name == "ours" and photo.expected not in texts:
                misses.append((photo, texts))

    header = "".join(f" | {name:^30}" for name in DECODERS)
    sub = " | decoded     rate    med ms  p95 ms" * len(DECODERS)
    print(f"{'folder':<18}{'n':>4}{header}")
    print(f"{'':<22}{sub}")
    for folder in [*folders, "TOTAL"]:
        total = sum(1 for p in photos if folder in (p.folder, "TOTAL"))
        cells = "".join(f" | {tallies[d, folder].row(total)}" for d in DECODERS)
        print(f"{folder:<18}{total:>4}{cells}")

    print(f"\nMissed by ours ({len(misses)}):")
    for photo, texts in misses:
        got = "nothing" if not texts else "other text: " + "; ".join(repr(t[:60]) for t in texts)
        print(f"  {photo.folder}/{photo.name}: expected {photo.expected[:60]!r}, got {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
