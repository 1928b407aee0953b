"""Printed labels: their QR codes decode back to the right deep links."""

import io
import subprocess
from pathlib import Path

from PIL import Image

from bot.domain.deeplinks import asset_code_from_scan, asset_link
from bot.intake.qr import decode_qr
from bot.labels import COLUMNS, ROWS, LabelData, label_image, sheets, write_labels
from tests.conftest import ASSETS_CSV, DEPARTMENTS_CSV, repairbot

BOT = "hospital_it_bot"


def encoded(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def items(count: int) -> list[LabelData]:
    return [
        LabelData(f"PC-{n:04d}", "Dell OptiPlex 7090", f"간호사실 {n}", "내과 병동")
        for n in range(count)
    ]


def test_one_label_decodes_to_its_deep_link() -> None:
    label = label_image(LabelData("내과 PC/1", "모델", "위치", "내과"), BOT)
    (text,) = decode_qr(encoded(label))
    assert text == asset_link(BOT, "내과 PC/1")
    assert asset_code_from_scan(text) == "내과 PC/1"


def test_every_label_on_a_sheet_decodes() -> None:
    pages = sheets(items(COLUMNS * ROWS + 3), BOT)
    assert len(pages) == 2
    found: set[str] = set()
    per_page = COLUMNS * ROWS
    for page in pages:
        for slot in range(per_page):
            width, height = page.width // COLUMNS, (page.height - 240) // ROWS
            x, y = (slot % COLUMNS) * width, 120 + (slot // COLUMNS) * height
            found.update(decode_qr(encoded(page.crop((x, y, x + width, y + height)))))
    assert found == {asset_link(BOT, item.code) for item in items(per_page + 3)}


def test_write_labels_pdf_and_png(tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    assert (
        write_labels(items(30), BOT, tmp_path / "s.pdf", lambda d, t: progress.append((d, t))) == 2
    )
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    assert progress[-1] == (30, 30) and len(progress) == 30
    assert write_labels(items(1), BOT, tmp_path / "one.png") == 1
    assert decode_qr((tmp_path / "one.png").read_bytes()) == [asset_link(BOT, "PC-0000")]


def test_labels_command(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(DEPARTMENTS_CSV)
    (tmp_path / "a.csv").write_text(ASSETS_CSV)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return repairbot(tmp_path, *args, BOT_USERNAME=BOT)

    assert run("import", "departments", "d.csv").returncode == 0
    assert run("import", "assets", "a.csv").returncode == 0
    done = run("labels", "--out", "er.png", "--department", "응급실")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "wrote er.png (1 page)"
    assert decode_qr((tmp_path / "er.png").read_bytes()) == [asset_link(BOT, "PR-0001")]
    done = run("labels", "--out", "all.pdf")
    assert done.returncode == 0 and "(1 page)" in done.stdout
    missing = run("labels", "--out", "x.pdf", "--asset", "NOPE")
    assert missing.returncode == 1 and "error: unknown asset codes: NOPE" in missing.stderr
    too_many = run("labels", "--out", "x.png")
    assert too_many.returncode == 1 and "a PNG holds one label" in too_many.stderr


def test_code_too_long_for_a_link_is_printed_bare() -> None:
    code = "병원-" * 12
    label = label_image(LabelData(code, "m", "l", "d"), BOT)
    assert decode_qr(encoded(label)) == [code]


def test_decode_qr_command(tmp_path: Path) -> None:
    write_labels(items(1), BOT, tmp_path / "one.png")
    (tmp_path / "notes.txt").write_text("not an image")
    done = repairbot(tmp_path, "decode-qr", "one.png", "notes.txt", "gone.png")
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"one.png: {asset_link(BOT, 'PC-0000')}",
        "notes.txt: error: not a readable image",
        "gone.png: error: No such file or directory",
    ]
