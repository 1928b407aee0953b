"""Printable QR labels for devices: each QR is the bot's deep link for that device, so any phone
camera opens the chat with the device already chosen."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from bot.domain.deeplinks import asset_link

DPI = 300
PAGE = (2480, 3508)  # A4 at 300 dpi
COLUMNS, ROWS = 3, 8  # 70 x 37 mm labels, the common A4 sheet of 24
MARGIN = (24, 120)
LABEL = ((PAGE[0] - 2 * MARGIN[0]) // COLUMNS, (PAGE[1] - 2 * MARGIN[1]) // ROWS)
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
"""Fonts with Hangul (Debian fonts-nanum, fonts-noto-cjk); the first one found is used."""


@dataclass(frozen=True)
class LabelData:
    code: str
    model: str
    location: str
    department: str


Progress = Callable[[int, int], None]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size)


def qr_image(text: str, size: int) -> Image.Image:
    """The QR at a whole number of pixels per module (crisp for printers), centred in `size`."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    code.add_data(text)
    code.make(fit=True)
    code.box_size = max(1, size // (code.modules_count + 2 * code.border))
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    canvas = Image.new("L", (size, size), 255)
    offset = (size - image.width) // 2
    canvas.paste(image.convert("L"), (offset, offset))
    return canvas


def _fit(
    draw: ImageDraw.ImageDraw, text: str, size: int, width: int
) -> tuple[str, ImageFont.FreeTypeFont | ImageFont.ImageFont]:
    """The largest font up to `size` that fits `width`, shortening the text as a last resort."""
    for points in range(size, 15, -2):
        font = _font(points)
        if draw.textlength(text, font=font) <= width:
            return text, font
    font = _font(16)
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…", font


def label_text(bot_username: str, code: str) -> str:
    """The deep link; a code too long for one is printed bare (the bot reads bare codes too)."""
    try:
        return asset_link(bot_username, code)
    except ValueError:
        return code


def label_image(item: LabelData, bot_username: str) -> Image.Image:
    width, height = LABEL
    image = Image.new("L", (width, height), 255)
    side = height - 40
    image.paste(qr_image(label_text(bot_username, item.code), side), (20, 20))
    draw = ImageDraw.Draw(image)
    left = side + 40
    room = width - left - 20
    lines = [(item.code, 64), (item.model, 36), (item.location, 36), (item.department, 30)]
    y = 36
    for text, size in lines:
        if not text:
            continue
        shown, font = _fit(draw, text, size, room)
        draw.text((left, y), shown, fill=0, font=font)
        y += size + 24
    draw.rectangle((0, 0, width - 1, height - 1), outline=200)
    return image


def sheets(
    items: Sequence[LabelData], bot_username: str, progress: Progress | None = None
) -> list[Image.Image]:
    """A4 pages of labels, filled row by row."""
    pages: list[Image.Image] = []
    per_page = COLUMNS * ROWS
    for index, item in enumerate(items):
        if index % per_page == 0:
            pages.append(Image.new("L", PAGE, 255))
        slot = index % per_page
        x = MARGIN[0] + (slot % COLUMNS) * LABEL[0]
        y = MARGIN[1] + (slot // COLUMNS) * LABEL[1]
        pages[-1].paste(label_image(item, bot_username), (x, y))
        if progress is not None:
            progress(index + 1, len(items))
    return pages


def write_labels(
    items: Sequence[LabelData], bot_username: str, out: Path, progress: Progress | None = None
) -> int:
    """PNG for a single label (`.png`), else a PDF of A4 sheets; returns the page count."""
    if not items:
        raise ValueError("no devices to label")
    if out.suffix.lower() == ".png":
        if len(items) != 1:
            raise ValueError("a PNG holds one label: name one device, or write a .pdf")
        label_image(items[0], bot_username).save(out, dpi=(DPI, DPI))
        if progress is not None:
            progress(1, 1)
        return 1
    pages = sheets(items, bot_username, progress)
    pages[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return len(pages)
