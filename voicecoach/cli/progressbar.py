"""The progress line of long commands: a bar, what is being done, and an honest estimate of the time left.

The time left comes from the rate measured over the last few seconds of work, never from the first
item alone: a job whose parts run at different speeds (rendering phrases, then encoding audio)
gets an estimate that follows the part it is in. Nothing is drawn when stderr is not a terminal.

The line fits the terminal's width: a line longer than the terminal wraps, and a carriage return then
goes back to the start of its last row only, so every redraw would leave a row behind. A terminal that
cannot redraw (TERM=dumb, as in an editor's shell buffer) gets a plain line for every tenth of the job.
"""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from collections import deque
from typing import Callable, Mapping, TextIO

WINDOW_S = 3.0          # the rate is measured over this much of the latest work
SETTLE_S = 1.0          # no estimate before this much time has been measured
WIDTH = 24              # the bar's cells on a wide terminal
NARROWEST_BAR = 10
DEFAULT_COLUMNS = 80    # when neither COLUMNS nor the terminal says


class TimeLeft:
    """Seconds left, from (time, fraction done) readings: the recent rate applied to what remains."""

    def __init__(self, window: float = WINDOW_S, settle: float = SETTLE_S):
        self.window = window
        self.settle = settle
        self._readings: deque[tuple[float, float]] = deque()
        self._started: float | None = None
        self.until = 1.0

    def add(self, now: float, fraction: float, until: float = 1.0) -> None:
        """A reading: `fraction` done at `now`, in a part of the job that ends at `until`."""
        if until != self.until:       # a new part of the job runs at its own speed: measure it afresh
            self._readings.clear()
            self._started = None
            self.until = until
        if self._started is None:
            self._started = now
        self._readings.append((now, fraction))
        while len(self._readings) > 2 and now - self._readings[1][0] >= self.window:
            self._readings.popleft()

    def seconds(self, now: float) -> float | None:
        """The estimate, or None while too little is measured or nothing has moved lately."""
        if self._started is None or now - self._started < self.settle or len(self._readings) < 2:
            return None
        (t0, f0), (t1, f1) = self._readings[0], self._readings[-1]
        if f1 <= f0 or t1 <= t0:
            return None
        rate = (f1 - f0) / (t1 - t0)
        return max(0.0, (self.until - f1) / rate - (now - t1))


def left_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def cells(text: str) -> int:
    """How many terminal columns `text` takes: wide (East Asian) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cut(text: str, room: int) -> str:
    """`text` in at most `room` columns, ending in "..." when shortened."""
    if cells(text) <= room:
        return text
    if room <= 3:
        return "...."[:max(0, room)]
    kept, used = [], 0
    for c in text:
        used += cells(c)
        if used > room - 3:
            break
        kept.append(c)
    return "".join(kept) + "..."


def bar_line(label: str, fraction: float, left: str, width: int, bar: bool = True) -> str:
    """The progress line in fewer than `width` columns, the percentage kept longest; without `bar`, a plain line."""
    # What gives way first: the bar narrows, the time left goes, the label shortens, the bar goes.
    room = width - 1                  # text in the last column makes some terminals wrap at once
    if room < 1:
        return ""
    label = "".join(c if c.isprintable() else "?" for c in label)   # a file name's escape codes are not obeyed
    percent = f"{int(fraction * 100):3d}%"

    def compose(text: str, bar_cells: int, tail: str) -> str:
        line = text
        if bar_cells:
            filled = int(bar_cells * fraction)
            line += ("  " if line else "") + f"[{'#' * filled}{'-' * (bar_cells - filled)}]"
        line += (" " if line else "") + percent
        return line + (f"  {tail}" if tail else "")

    tails = [left, ""] if left else [""]
    bars = list(range(WIDTH, NARROWEST_BAR - 1, -1)) if bar else [0]
    # (bar cells, time left, the fewest columns of the label kept; None: all of it), best first.
    plans: list[tuple[int, str, int | None]] = [(b, t, None) for t in tails for b in bars]
    plans += [(bars[-1], t, 16) for t in tails] + [(0, "", 8)]
    wanted = cells(label)
    for bar_cells, tail, fewest in plans:
        space = room - cells(compose("", bar_cells, tail)) - (2 if bar_cells else 1)
        if wanted <= space or (fewest is not None and space >= fewest):
            return compose(cut(label, space), bar_cells, tail)
    return percent.strip()[:room]


class ProgressBar:
    """`update(fraction, label)` redraws one line on a terminal's stderr; plain lines on a dumb one; quiet elsewhere."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 env: Mapping[str, str] | None = None):
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.env = env if env is not None else os.environ
        # No TERM at all says as little about carriage returns and escape codes as TERM=dumb.
        self.dumb = self.env.get("TERM", "dumb") in ("", "dumb")
        self.clock = clock
        self.eta = TimeLeft()
        self.shown = 0.0
        self._drawn = False
        self._last = ""
        self._drawing: tuple = ()
        self._tenth = -1

    def __enter__(self) -> ProgressBar:
        return self

    def columns(self) -> int:
        """The terminal's width: COLUMNS when set, else the terminal's own, else 80."""
        given = self.env.get("COLUMNS", "").strip()
        if given.isdigit() and int(given) > 0:
            return int(given)
        try:
            found = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            found = 0
        return found if found > 0 else DEFAULT_COLUMNS

    def update(self, fraction: float, label: str, until: float = 1.0) -> None:
        """Show `fraction` (0..1, never moving back) of the whole job done, doing `label`, a part that ends at `until`."""
        self.shown = max(self.shown, min(1.0, fraction))
        now = self.clock()
        self.eta.add(now, self.shown, until)
        if not self.tty:
            return
        left = left_text(self.eta.seconds(now))
        # An export reports every block it encodes; the line changes far less often than that.
        drawing = (label, int(self.shown * 1000), left, self.columns())
        if drawing == self._drawing:
            return
        self._drawing = drawing
        if self.dumb:
            tenth = int(self.shown * 10)
            if tenth > self._tenth:       # the first reading, then each tenth of the job: at most 11 lines
                self._tenth = tenth
                self.stream.write(bar_line(label, self.shown, left, drawing[3], bar=False) + "\n")
                self.stream.flush()
            return
        line = bar_line(label, self.shown, left, drawing[3])
        if line != self._last:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self._last = line
            self._drawn = True

    def __exit__(self, *exc) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
