"""Read the QR code on an asset label from a photo a ward sent us.

Photos arrive as encoded bytes (PNG/JPEG/WebP...) from chat, often small, blurred, printed on
curved or wrinkled material.  zxing-cpp does the work: it locates codes well, corrects errors
and, unlike zbar, gets the character set right (Shift-JIS, UTF-8, ECI), which matters because
the text must match the asset register exactly.  When the untouched photo yields nothing we try a
short cascade of preprocessed variants, each kept only because it decoded photos of the
reference set (``bench/qr_decode.py``) that every earlier step missed.

pyzbar was measured as a fallback too (plain and with upscaling, Otsu, adaptive threshold,
inversion, median blur and rotations) and decoded nothing this cascade misses, at about ten times
the cost per attempt, while guessing the character set wrongly; it is therefore not used here.

Everything here is a pure function of its input with no shared mutable state, so the bot can
call :func:`decode_qr` from several worker threads at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp
from PIL import Image

__all__ = ["MAX_PIXELS", "ImageError", "decode_qr"]

Gray = npt.NDArray[np.uint8]

MAX_PIXELS: Final = 40_000_000
"""Largest image (width x height) we decode.

Phone cameras stay well below this; anything larger is either a mistake or a decompression bomb
that would cost hundreds of megabytes once decoded.  It is below Pillow's own warning threshold
(about 89 megapixels) so ordinary oversized images are refused by us, quietly.
"""

_QR_ONLY: Final = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
"""Labels carry QR codes; not looking for other symbologies makes each read about 4x faster."""

_UPSCALE_MAX_SIDE: Final = 1280
"""The upscaling step never makes an image's longer side larger than this.

It exists for small, low-resolution photos; upscaling big ones would only cost time.
"""


class ImageError(ValueError):
    """Not an image we can read, or too large; message is for logs."""


def decode_qr(data: bytes) -> list[str]:
    """Every distinct QR text found in an encoded image (PNG/JPEG/WebP...), best first.

    Returns [] when there is no readable QR code.

    "Best" is the largest code in the picture: a photo of a label is framed around the code the
    sender means, while smaller ones are usually neighbouring labels or a code nested in a logo.
    Texts come back exactly as encoded (control characters such as the GS1 group separator
    included), since they are looked up verbatim.

    Raises ImageError when the bytes are not an image we can decode or the image is larger
    than MAX_PIXELS.
    """
    gray = _load_gray(data)
    for attempt in _ATTEMPTS:
        barcodes = zxingcpp.read_barcodes(
            attempt.prepare(gray),
            formats=_QR_ONLY,
            binarizer=attempt.binarizer,
            text_mode=zxingcpp.TextMode.Plain,
        )
        texts = _texts_largest_first(barcodes)
        if texts:
            return texts
    return []


def _load_gray(data: bytes) -> Gray:
    """Decode image bytes to an 8-bit grayscale array, refusing oversized images first.

    Pillow reads only the header on open, so the size check happens before any pixel data is
    decompressed.  Transparent pixels are painted white: a QR saved as a PNG with a transparent
    background would otherwise turn into black-on-black.
    """
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # header claims a gigantic image
        raise ImageError(str(exc)) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # not an image we know
        raise ImageError(f"cannot identify image: {exc}") from exc
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ImageError(f"image is {width}x{height} pixels, more than {MAX_PIXELS} allowed")
        try:
            image.draft("L", image.size)  # JPEG: decode straight to grayscale, cheaper
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                rgba = image.convert("RGBA")
                flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
                return np.asarray(flat.convert("L"), dtype=np.uint8)
            return np.asarray(image.convert("L"), dtype=np.uint8)
        except (OSError, SyntaxError, ValueError) as exc:  # truncated or corrupt pixel data
            raise ImageError(f"cannot decode {width}x{height} image: {exc}") from exc


def _texts_largest_first(barcodes: list[zxingcpp.Barcode]) -> list[str]:
    """Distinct non-empty texts, the largest code's first (see decode_qr for why)."""
    by_size = sorted(barcodes, key=lambda barcode: _area(barcode.position), reverse=True)
    return list(dict.fromkeys(barcode.text for barcode in by_size if barcode.text))


def _area(position: zxingcpp.Position) -> float:
    """Area of the quadrilateral a code occupies (shoelace formula), in pixels."""
    corners = (
        position.top_left,
        position.top_right,
        position.bottom_right,
        position.bottom_left,
    )
    twice_area = 0
    for here, there in zip(corners, corners[1:] + corners[:1], strict=True):
        twice_area += here.x * there.y - there.x * here.y
    return abs(twice_area) / 2


def _as_is(gray: Gray) -> Gray:
    return gray


def _half_size(gray: Gray) -> Gray:
    """Halve the image by averaging 2x2 blocks.

    Designer codes fill their modules with a picture; averaging blurs the picture into the
    module's mean brightness, which a single global threshold then separates cleanly.
    """
    return np.asarray(cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))


def _erode(size: int) -> Callable[[Gray], Gray]:
    """Grow dark areas by a size x size minimum filter.

    Codes printed on cloth have dark modules thinned and broken up by the weave and its
    highlights; eroding joins them back into solid squares before binarisation.
    """
    kernel = np.ones((size, size), np.uint8)

    def erode(gray: Gray) -> Gray:
        return np.asarray(cv2.erode(gray, kernel))

    return erode


def _upscale_then(step: Callable[[Gray], Gray]) -> Callable[[Gray], Gray]:
    """Double a small image (bicubic) before ``step``.

    In low-resolution photos a module is only a few pixels wide, too few for erosion to thicken
    it without merging it with its neighbours; at twice the size the filter has room to work.
    """

    def upscaled(gray: Gray) -> Gray:
        factor = min(2.0, _UPSCALE_MAX_SIDE / max(gray.shape))
        if factor > 1:
            resized = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
            gray = np.asarray(resized, dtype=np.uint8)
        return step(gray)

    return upscaled


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One zxing-cpp read: how to prepare the grayscale image, and how to binarise it."""

    prepare: Callable[[Gray], Gray]
    binarizer: zxingcpp.Binarizer


_ATTEMPTS: Final = (
    # The photo as it is, with zxing-cpp's own retries (downscaled, inverted).
    _Attempt(_as_is, zxingcpp.Binarizer.LocalAverage),
    # Designer codes whose modules are filled with a picture.
    _Attempt(_half_size, zxingcpp.Binarizer.GlobalHistogram),
    # Small photos of codes on cloth.
    _Attempt(_upscale_then(_erode(3)), zxingcpp.Binarizer.LocalAverage),
)
"""Tried in order until one finds a code; the first covers all but a few percent of photos."""
