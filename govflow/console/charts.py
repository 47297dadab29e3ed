"""Charts drawn by matplotlib (Agg, SVG output) on the server and inlined in the page:
no chart code runs in the browser and nothing is fetched when a page loads.

Text stays text in the SVG (`svg.fonttype: none`), so the charts are small, searchable
and readable by screen readers. Each chart is cached by a digest of its inputs.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.cache import cache

from govflow.core.digests import json_digest

_STYLE: Any = {  # matplotlib's stubs want literal keys
    "svg.fonttype": "none",
    "svg.hashsalt": "govflow-console",  # stable element ids: identical inputs, identical SVG
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MARKERS = {  # event kind: (marker, colour, label)
    "open": ("o", "#1f5fa8", "opened"),
    "advance": ("^", "#1a7f37", "advanced"),
    "rollback": ("v", "#c62828", "rolled back"),
    "paused": ("s", "#b26a00", "paused"),
    "resumed": ("D", "#1f5fa8", "resumed"),
    "halted": ("X", "#6a1b9a", "halted"),
    "hold.placed": ("P", "#c62828", "hold placed"),
    "hold.lifted": ("P", "#1a7f37", "hold lifted"),
}


_SVG_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S)


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    # matplotlib's one <style> element (line joins and caps) is an inline style sheet the
    # page's CSP refuses; console.css carries the same rule for figure.chart svg.
    return _SVG_STYLE.sub("", text[text.index("<svg"):], count=1)


def _cached(kind: str, inputs: dict[str, Any], draw) -> str:
    key = f"console:chart:{kind}:{json_digest(inputs)}"
    svg = cache.get(key)
    if svg is None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with matplotlib.rc_context(_STYLE):
            fig = draw(plt)
            try:
                svg = _svg(fig)
            finally:
                plt.close(fig)
        cache.set(key, svg, timeout=24 * 3600)
    return svg


def _spread(points: list[dict[str, Any]], index: dict[str, int]) -> list[float]:
    """A horizontal offset (in points) for each marker, so that events at the same
    place and (nearly) the same time sit side by side instead of on top of each other."""
    offsets, seen = [], {}
    for p in points:
        # events within a minute of each other at one stage would overlap at any zoom
        # that shows a release's life, so they share a slot
        slot = (index.get(p["stage"], 0), p["at"].replace(second=0, microsecond=0))
        n = seen.get(slot, 0)
        seen[slot] = n + 1
        offsets.append(n)
    return [(n + 1) // 2 * (1 if n % 2 else -1) * 9.0 for n in offsets]


def stage_timeline(*, stages: list[str], points: list[dict[str, Any]],
                   titles: dict[str, str] | None = None, title: str = "") -> str:
    """The stage a release was in over time, with a marker per event. ``points`` are
    {at, stage, kind} in time order; transitions move the line, others annotate.

    The chart depends on its points only (not on the clock), so it is drawn once per
    change of the release and served from the cache otherwise; the line ends at the
    last event, with an arrow saying the release is still there."""
    titles = titles or {}
    inputs = {"stages": stages, "titles": titles, "title": title,
              "points": [{**p, "at": p["at"].isoformat()} for p in points]}

    def draw(plt):
        import matplotlib.dates as mdates
        from matplotlib.transforms import offset_copy

        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(stages) + 1.6))
        index = {name: i for i, name in enumerate(stages)}
        moves = [p for p in points if p["kind"] in ("open", "advance", "rollback")]
        xs = [p["at"] for p in moves]
        ys = [index.get(p["stage"], 0) for p in moves]
        if xs:
            ax.step(xs, ys, where="post", color="#555", linewidth=1.6, zorder=1)
            # the release is still at its last stage: an arrow to the right edge, and
            # no "now" on the axis (the chart would change with the clock)
            ax.annotate("", xy=(1.0, ys[-1]), xycoords=("axes fraction", "data"),
                        xytext=(xs[-1], ys[-1]), textcoords="data",
                        arrowprops={"arrowstyle": "->", "color": "#999"})
            ax.text(1.0, ys[-1] + 0.18, "still here ", transform=ax.get_yaxis_transform(),
                    ha="right", va="bottom", fontsize=8, color="#555")
        seen = set()
        for p, dx in zip(points, _spread(points, index), strict=True):
            marker, colour, label = MARKERS.get(p["kind"], ("o", "#333", p["kind"]))
            shifted = offset_copy(ax.transData, fig=fig, x=dx, y=0, units="points")
            ax.scatter([mdates.date2num(p["at"])], [index.get(p["stage"], 0)], marker=marker,
                       s=60, color=colour, edgecolors="white", linewidths=0.6, zorder=3,
                       transform=shifted, label=None if label in seen else label)
            seen.add(label)
        ax.set_yticks(range(len(stages)), labels=[titles.get(s, s) for s in stages])
        ax.set_ylim(-0.6, len(stages) - 0.4)
        ax.xaxis_date()
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d\n%H:%M"))
        if xs:
            first, last = mdates.date2num(min(p["at"] for p in points)), \
                mdates.date2num(max(p["at"] for p in points))
            pad = max((last - first) * 0.15, 1 / 24)  # at least an hour either side
            ax.set_xlim(first - pad, last + pad)
        ax.set_xlabel("time (UTC, date and hour:minute)")
        ax.set_ylabel("stage")
        ax.grid(axis="y", color="#e5e5e5")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                  title="event")
        if title:
            ax.set_title(title, loc="left")
        return fig

    return _cached("timeline", inputs, draw)


def rate_axis_limit(threshold: float | None, uppers: list[float]) -> float:
    """The right end of a rate axis: wide enough for every interval and twice the
    threshold, never past 1. An axis running 0–1 would squeeze intervals around a 0.1
    threshold into a tenth of the chart, where nobody can read which side they fall."""
    top = max([*uppers, 0.0])
    if threshold is not None:
        top = max(top, 2 * threshold)
    return min(1.0, max(top * 1.08, 0.02))


def rate_intervals(*, cells: list[dict[str, Any]], metric: str, threshold: float | None,
                   confidence: float, method: str, title: str = "") -> str:
    """Each cell's rate with its confidence interval, against the policy's threshold.
    ``cells`` are {label, rate, lower, upper, k, n}; a cell whose upper bound exceeds the
    threshold is drawn in red: the gate reads the worst plausible rate, not the average."""
    inputs = {"cells": cells, "metric": metric, "threshold": threshold,
              "confidence": confidence, "method": method, "title": title}

    def draw(plt):
        fig, ax = plt.subplots(figsize=(8.5, 0.32 * len(cells) + 1.4))
        for row, cell in enumerate(cells):
            over = threshold is not None and cell["upper"] > threshold
            colour = "#c62828" if over else "#1f5fa8"
            rate = cell["rate"] if cell["rate"] is not None else 0.0
            ax.errorbar([rate], [row], xerr=[[rate - cell["lower"]], [cell["upper"] - rate]],
                        fmt="o", color=colour, capsize=3, markersize=4)
            ax.annotate(f"{cell['k']}/{cell['n']}", xy=(cell["upper"], row),
                        xytext=(4, 0), textcoords="offset points", va="center",
                        fontsize=7, color="#555")
        if threshold is not None:
            ax.axvline(threshold, color="#b26a00", linestyle="--", linewidth=1.2,
                       label=f"policy threshold {threshold:g}")
            ax.legend(loc="lower right", frameon=False)
        ax.set_yticks(range(len(cells)), labels=[c["label"] for c in cells])
        ax.invert_yaxis()
        ax.set_xlim(0, rate_axis_limit(threshold, [c["upper"] for c in cells]))
        ax.set_xlabel(f"{metric}: rate per episode (0–1), with {confidence:.0%} "
                      f"{method.replace('_', '-').title()} interval")
        ax.set_ylabel("cell")
        ax.grid(axis="x", color="#e5e5e5")
        if title:
            ax.set_title(title, loc="left")
        return fig

    return _cached("rates", inputs, draw)
