"""Charts as PNG bytes. A bare matplotlib Figure renders with Agg and never touches pyplot's
global state or a display, so it is safe in the worker threads where this CPU work runs."""

import io
from functools import cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

FONTS = (
    Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
)
"""Hangul (fonts-nanum), then simplified Chinese (fonts-wqy-microhei): each installed one is
a fallback for the glyphs the one before lacks."""


@cache
def _font() -> font_manager.FontProperties | None:
    families = []
    for path in FONTS:
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            families.append(font_manager.FontProperties(fname=path).get_name())
    return font_manager.FontProperties(family=families) if families else None


def opened_closed_chart(
    days: list[str], opened: list[int], closed: list[int], title: str, labels: tuple[str, str]
) -> bytes:
    """Tickets opened and closed per day (`days` as the reader writes them), as a PNG."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    positions = range(len(days))
    axes.bar([p - 0.2 for p in positions], opened, width=0.4, label=labels[0], color="#d9534f")
    axes.bar([p + 0.2 for p in positions], closed, width=0.4, label=labels[1], color="#5cb85c")
    axes.set_xticks(list(positions), days, rotation=45, fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    font = _font()
    axes.set_title(title, fontproperties=font)
    axes.legend(prop=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
