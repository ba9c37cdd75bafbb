"""`progress --plot`: practice days per week against the three-a-week line, and trainer size over time."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from voicecoach.files import atomic_path, written
from voicecoach.practice.progress import Progress

WIDTH, HEIGHT, DPI = 8, 6, 100          # inches and dots per inch: an 800 x 600 PNG
PAPER = "#fbf8f3"
INK = "#4a4a4a"
MET = "#5b9a8b"                          # a week at the rhythm
SOME = "#b9d7cf"                         # a week with some practice
LINE = "#d08c60"
SIZE = "#7b6fa8"


def figure(p: Progress):
    """The chart as a matplotlib Figure (drawn with the Agg canvas; no window, no global pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor=PAPER, layout="constrained")
    FigureCanvasAgg(fig)
    weeks_ax, size_ax = fig.subplots(2, 1, height_ratios=[3, 2])
    for ax in (weeks_ax, size_ax):
        ax.set_facecolor(PAPER)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        for side in ("left", "bottom"):
            ax.spines[side].set_color("#cfc8bd")
        ax.tick_params(colors=INK, labelsize=9)
    fig.suptitle("Your practice", color=INK, fontsize=15, x=0.02, ha="left")

    weeks = shown_weeks(p)
    starts = [w.start for w in weeks]
    heights = [w.days for w in weeks]
    colours = [MET if d >= p.per_week else SOME for d in heights]
    bars = weeks_ax.bar(starts, heights, width=6, align="edge", color=colours, edgecolor="none", zorder=2)
    if weeks and weeks[-1].days < p.per_week:
        bars[-1].set_hatch("////")         # this week is still under way
        bars[-1].set_edgecolor(PAPER)
    weeks_ax.axhline(p.per_week, color=LINE, linestyle=(0, (4, 3)), linewidth=1.5, zorder=3)
    weeks_ax.text(starts[0], p.per_week + 0.15, f"at least {p.per_week} a week", color=LINE, fontsize=9,
                  va="bottom")
    weeks_ax.set_ylim(0, 7.5)
    weeks_ax.set_yticks(range(0, 8))
    weeks_ax.set_ylabel("days with practice", color=INK, fontsize=10)
    weeks_ax.set_title("Week by week", color=INK, fontsize=11, loc="left")
    weeks_ax.grid(axis="y", color="#ece6dc", zorder=0)

    size_ax.set_title("Trainer size", color=INK, fontsize=11, loc="left")
    size_ax.set_ylabel("size", color=INK, fontsize=10)
    largest = max((s for _, s in p.sizes), default=4)
    size_ax.set_ylim(0.5, max(4, largest) + 0.5)
    size_ax.set_yticks(range(1, max(4, largest) + 1))
    size_ax.grid(axis="y", color="#ece6dc", zorder=0)
    per_day: dict = {}
    for day, size in p.sizes:
        if day >= starts[0]:
            per_day[day] = max(size, per_day.get(day, 0))
    if per_day:
        days = sorted(per_day)
        # Held until today: the size you are at now, not only the days you used it.
        size_ax.step(days + [p.today], [per_day[d] for d in days] + [per_day[days[-1]]], where="post",
                     color=SIZE, linewidth=2, zorder=2)
        size_ax.scatter(days, [per_day[d] for d in days], color=SIZE, s=28, zorder=3)
    else:
        size_ax.text(0.5, 0.5, "Trainer practice will show here once you note some.", transform=size_ax.transAxes,
                     ha="center", va="center", color="#8a8a8a", fontsize=10)

    # One time axis for both: a week's bar sits above that week's sizes.
    every = max(1, len(starts) // 8)
    for ax in (weeks_ax, size_ax):
        # A short history still gets room for a few weeks: the ones ahead, not empty ones behind.
        ax.set_xlim(starts[0] - timedelta(days=1), max(starts[-1] + timedelta(days=7), starts[0] + timedelta(weeks=4)))
        ax.set_xticks(starts[::every])
        ax.xaxis.set_major_formatter(DateFormatter("%d %b"))
    return fig


def shown_weeks(p: Progress, fewest: int = 4) -> list:
    """The weeks worth drawing: from the first one with practice to this week (the last `fewest` with none)."""
    weeks = list(p.weeks)
    first = next((k for k, w in enumerate(weeks) if w.days), None)
    # Starting earlier drew empty weeks before anything was noted, as if they had been missed.
    return weeks[first:] if first is not None else weeks[-fewest:]


def write_png(p: Progress, path: str | os.PathLike) -> Path:
    """Draw the chart to a PNG, atomically and readable only by you (it says how you practise)."""
    path = Path(path)
    fig = figure(p)
    with written(path), atomic_path(path, mode=0o600) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, facecolor=PAPER)
    return path
