"""Charts drawn by matplotlib (Agg, SVG output) on the server and inlined in the page:
no chart code runs in the browser and nothing is fetched when a page loads.

Text stays text in the SVG (`svg.fonttype: none`), so the charts are small, searchable
and readable by screen readers. Each chart is cached by a digest of its inputs.
"""

from __future__ import annotations

import io
from datetime import datetime
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


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]


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


def stage_timeline(*, stages: list[str], points: list[dict[str, Any]], now: datetime,
                   title: str = "") -> str:
    """The stage a release was in over time, with a marker per event. ``points`` are
    {at, stage, kind, label} in time order; transitions move the line, others annotate."""
    inputs = {"stages": stages, "now": now.isoformat(), "title": title,
              "points": [{**p, "at": p["at"].isoformat()} for p in points]}

    def draw(plt):
        import matplotlib.dates as mdates

        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(stages) + 1.4))
        index = {name: i for i, name in enumerate(stages)}
        moves = [p for p in points if p["kind"] in ("open", "advance", "rollback")]
        xs = [p["at"] for p in moves] + [now]
        ys = [index.get(p["stage"], 0) for p in moves]
        ys.append(ys[-1] if ys else 0)
        ax.step(xs, ys, where="post", color="#555", linewidth=1.6, zorder=1)
        seen = set()
        for p in points:
            marker, colour, label = MARKERS.get(p["kind"], ("o", "#333", p["kind"]))
            ax.scatter([p["at"]], [index.get(p["stage"], 0)], marker=marker, s=70,
                       color=colour, zorder=3, label=None if label in seen else label)
            seen.add(label)
        ax.set_yticks(range(len(stages)), labels=stages)
        ax.set_ylim(-0.6, len(stages) - 0.4)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
        ax.grid(axis="y", color="#e5e5e5")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        if title:
            ax.set_title(title, loc="left")
        return fig

    return _cached("timeline", inputs, draw)


def rate_intervals(*, cells: list[dict[str, Any]], metric: str, threshold: float | None,
                   confidence: float, method: str, title: str = "") -> str:
    """Each cell's rate with its confidence interval, against the policy's threshold.
    ``cells`` are {label, rate, lower, upper, k, n}; a cell whose upper bound exceeds the
    threshold is drawn in red: the gate reads the worst plausible rate, not the average."""
    inputs = {"cells": cells, "metric": metric, "threshold": threshold,
              "confidence": confidence, "method": method, "title": title}

    def draw(plt):
        fig, ax = plt.subplots(figsize=(8.5, 0.32 * len(cells) + 1.3))
        for row, cell in enumerate(cells):
            over = threshold is not None and cell["upper"] > threshold
            colour = "#c62828" if over else "#1f5fa8"
            rate = cell["rate"] if cell["rate"] is not None else 0.0
            ax.errorbar([rate], [row], xerr=[[rate - cell["lower"]], [cell["upper"] - rate]],
                        fmt="o", color=colour, capsize=3, markersize=4)
        if threshold is not None:
            ax.axvline(threshold, color="#b26a00", linestyle="--", linewidth=1.2,
                       label=f"policy threshold {threshold:g}")
            ax.legend(loc="lower right", frameon=False)
        ax.set_yticks(range(len(cells)), labels=[c["label"] for c in cells])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"{metric}: rate with {confidence:.0%} {method.replace('_', '-')} "
                      "interval")
        ax.grid(axis="x", color="#e5e5e5")
        if title:
            ax.set_title(title, loc="left")
        return fig

    return _cached("rates", inputs, draw)
