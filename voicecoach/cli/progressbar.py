"""The progress line of long commands: a bar, what is being done, and an honest estimate of the time left.

The time left comes from the rate measured over the last few seconds of work, never from the first
item alone: a job whose parts run at different speeds (rendering phrases, then encoding audio)
gets an estimate that follows the part it is in. Nothing is drawn when stderr is not a terminal.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Callable, TextIO

WINDOW_S = 3.0          # the rate is measured over this much of the latest work
SETTLE_S = 1.0          # no estimate before this much time has been measured
WIDTH = 24


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


class ProgressBar:
    """`update(fraction, label)` redraws one line on a terminal's stderr; quiet when not a terminal."""

    def __init__(self, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.clock = clock
        self.eta = TimeLeft()
        self.shown = 0.0
        self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def update(self, fraction: float, label: str, until: float = 1.0) -> None:
        """Show `fraction` (0..1, never moving back) of the whole job done, doing `label`, a part that ends at `until`."""
        self.shown = max(self.shown, min(1.0, fraction))
        now = self.clock()
        self.eta.add(now, self.shown, until)
        if not self.tty:
            return
        filled = int(WIDTH * self.shown)
        line = f"{label}  [{'#' * filled}{'-' * (WIDTH - filled)}] {int(self.shown * 100):3d}%  {left_text(self.eta.seconds(now))}"
        self.stream.write("\r" + line.rstrip() + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def __exit__(self, *exc) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
