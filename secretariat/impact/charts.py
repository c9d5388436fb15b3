"""Charts of an impact report as SVG, drawn with matplotlib's object API.

Only ``matplotlib.figure.Figure`` is used: pyplot keeps global state that is neither thread-safe
nor freed in a web server. Text stays text in the SVG (readable in the PDF and by screen
readers), and the output is the same for the same figures (fixed hash salt, no date).
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from decimal import Decimal
from typing import Any

import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

matplotlib.use("Agg")

_STYLE = {
    "svg.fonttype": "none",
    # Labels are users' text: a "$" is a dollar sign, not the start of a formula.
    "text.parse_math": False,
    "svg.hashsalt": "secretariat-impact",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
#: Bars are drawn in one colour with their value written beside them (colour is never the
#: only signal); the target line is dashed.
BAR = "#2f6f8f"
TARGET = "#333333"
_LOCK = threading.Lock()
#: Progress beyond this share of the target is drawn at the edge (and labelled with its value).
PROGRESS_CAP = 150


def _svg(figure: Figure, title: str) -> Markup:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # An accessible name for the chart, read by screen readers.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # matplotlib numbers its ids from 1 in every chart: prefix them so that several charts
    # in one page (or PDF) keep their ids unique and each its own clip paths.
    prefix = "chart-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)
    return Markup(svg)  # noqa: S704 - drawn by matplotlib from our own figures, labels escaped


def _attr(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _horizontal_bars(
    labels: list[str],
    values: list[float],
    title: str,
    *,
    unit: str = "",
    target: float | None,
    integer: bool = False,
    cap: float | None = None,
) -> Markup:
    """Bars of the values (drawn up to ``cap``), each labelled with its real value."""
    shown = [min(value, cap) for value in values] if cap is not None else values
    # rc_context changes matplotlib's global settings: one chart at a time (threaded server).
    with _LOCK, matplotlib.rc_context(_STYLE):
        height = 0.8 + 0.42 * max(len(labels), 1)
        figure = Figure(figsize=(6.4, height))
        axes = figure.subplots()
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, shown, color=BAR, height=0.6)
        axes.set_yticks(positions, labels=[_short(label) for label in labels])
        top = max([*shown, target or 0, 1])
        axes.set_xlim(0, top * 1.18)
        for y, value, length in zip(positions, values, shown, strict=True):
            axes.text(length + top * 0.01, y, f"{_plain(value)}{unit}", va="center")
        if target is not None:
            axes.axvline(target, color=TARGET, linestyle="--", linewidth=1)
        axes.tick_params(axis="y", length=0)
        if integer:
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        return _svg(figure, title)


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _plain(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def indicator_progress(indicators: list[dict[str, Any]], title: str) -> Markup | None:
    """Each indicator's value as a share of its target (100 % is the dashed line)."""
    rows = [i for i in indicators if i.get("progress_pct") is not None]
    if not rows:
        return None
    labels = [row["name"] for row in rows]
    values = [float(Decimal(row["progress_pct"])) for row in rows]
    return _horizontal_bars(labels, values, title, unit=" %", target=100, cap=PROGRESS_CAP)


def counts(pairs: list[tuple[str, int]], title: str) -> Markup | None:
    """A bar per label (levels, regions, sizes), the count written beside it."""
    if not pairs or not any(count for _, count in pairs):
        return None
    return _horizontal_bars(
        [label for label, _ in pairs],
        [count for _, count in pairs],
        title,
        target=None,
        integer=True,
    )
