"""Charts as PNG bytes. A bare matplotlib Figure renders with Agg and never touches pyplot's
global state or a display, so it is safe in the worker threads where this CPU work runs."""

import io
from datetime import date
from pathlib import Path

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

HANGUL_FONT = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def opened_closed_chart(
    days: list[date], opened: list[int], closed: list[int], title: str, labels: tuple[str, str]
) -> bytes:
    """Tickets opened and closed per day, as a PNG."""
    figure = Figure(figsize=(8, 3.6), dpi=100)
    axes = figure.add_subplot()
    positions = range(len(days))
    axes.bar([p - 0.2 for p in positions], opened, width=0.4, label=labels[0], color="#d9534f")
    axes.bar([p + 0.2 for p in positions], closed, width=0.4, label=labels[1], color="#5cb85c")
    axes.set_xticks(list(positions), [d.strftime("%m-%d") for d in days], rotation=45, fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    font = font_manager.FontProperties(fname=HANGUL_FONT) if HANGUL_FONT.is_file() else None
    axes.set_title(title, fontproperties=font)
    axes.legend(prop=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
