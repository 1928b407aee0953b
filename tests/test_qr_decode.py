"""decode_qr: reads real label photos exactly, round-trips generated codes, refuses bad input."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
import qrcode
from PIL import Image

from bot.intake.qr import MAX_PIXELS, ImageError, decode_qr

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "qr-photos"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _qr_png(text: str) -> bytes:
    code = qrcode.QRCode(box_size=6, border=4)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return _png(code.make_image().get_image())


def test_decodes_at_least_97_percent_of_reference_photos_exactly() -> None:
    if not PHOTOS.is_dir():
        pytest.skip(f"reference photos not found at {PHOTOS}")
    photos = sorted(p for p in PHOTOS.glob("*/*") if p.suffix.lower() in IMAGE_SUFFIXES)
    assert len(photos) >= 200
    missed = [
        f"{p.parent.name}/{p.name}"
        for p in photos
        if p.with_suffix(".txt").read_bytes().decode("utf-8") not in decode_qr(p.read_bytes())
    ]
    decoded = len(photos) - len(missed)
    assert decoded / len(photos) >= 0.97, f"{decoded}/{len(photos)}; missed {missed}"


def test_generated_code_with_korean_text_and_url_round_trips() -> None:
    text = "자산 번호 A-1234 심전도 모니터 https://repair.example.org/asset?id=1234&ward=3B"
    assert decode_qr(_qr_png(text)) == [text]


def test_code_on_transparent_background_is_read() -> None:
    code = qrcode.QRCode(box_size=6, border=4)
    code.add_data("ASSET-0042")
    mask = code.make_image().get_image().convert("L")
    # Black modules, everything else fully transparent black: flattening onto white is needed.
    transparent = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    transparent.putalpha(Image.eval(mask, lambda v: 255 - v))
    assert decode_qr(_png(transparent)) == ["ASSET-0042"]


def test_blank_image_gives_empty_list() -> None:
    assert decode_qr(_png(Image.new("L", (640, 480), 255))) == []


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40],
    ids=["empty", "text", "broken-png"],
)
def test_non_image_bytes_raise_image_error(data: bytes) -> None:
    with pytest.raises(ImageError):
        decode_qr(data)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares the given size but carries almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("width", "height"), [(50_000, 50_000), (8_000, MAX_PIXELS // 8_000 + 1)])
def test_huge_image_is_refused_before_decoding(width: int, height: int) -> None:
    with pytest.raises(ImageError, match="pixels"):
        decode_qr(_png_header_only(width, height))
