"""Ducking from the timeline: the background's gain, sample by sample, dipping under every cue.

No compressor has to guess when the voice speaks: every cue's start and end are known, so the bed
is already down when a cue starts and comes back only once it has ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicecoach.exercise.timeline import Timeline
from voicecoach.units import SAMPLES_PER_MS

DEPTH_DB = 12.0         # how far the bed dips under a cue
ATTACK_MS = 300         # the dip starts this long before a cue and is complete when the cue starts
RELEASE_MS = 800        # after a cue the bed comes back over this long: slower, so it does not pump
FADE_IN_MS = 3000       # the bed rises from silence at the start of the session ...
FADE_OUT_MS = 4000      # ... and sinks to silence at its end


@dataclass(frozen=True)
class Ducking:
    """The bed's gain curve: breakpoints (sample, dB) joined by straight lines in dB, and the fades."""
    at: tuple[int, ...]
    db: tuple[float, ...]
    total: int              # samples in the session

    def gains(self, at: np.ndarray) -> np.ndarray:
        """The linear gain at the sample positions `at` (ascending): the dips times the fades in and out."""
        n = np.asarray(at, dtype=np.float64)
        out = np.ones(len(n))
        if self.at and len(n):
            i, j = np.searchsorted(self.at, [n[0], n[-1]])
            # Only the breakpoints near these positions matter: a long session's curve is not interpolated whole.
            xs, ys = self.at[max(0, i - 1): j + 1], self.db[max(0, i - 1): j + 1]
            if any(y != 0 for y in ys):
                out = 10 ** (np.interp(n, xs, ys) / 20)
        fade_in, fade_out = FADE_IN_MS * SAMPLES_PER_MS, FADE_OUT_MS * SAMPLES_PER_MS
        if len(n) and (n[0] < fade_in or n[-1] > self.total - fade_out):
            # Raised-cosine fades: no corner at either end of them.
            ramp = np.clip(np.minimum(n / fade_in, (self.total - n) / fade_out), 0.0, 1.0)
            out = out * (0.5 - 0.5 * np.cos(np.pi * ramp))
        return out


def ducked_spans(timeline: Timeline) -> list[tuple[int, int]]:
    """(first, last) sample of every stretch the bed is fully down: each cue, with close ones merged."""
    spans: list[tuple[int, int]] = []
    gap = (ATTACK_MS + RELEASE_MS) * SAMPLES_PER_MS
    for cue in sorted(timeline.cues, key=lambda c: c.start):
        lo, hi = cue.start * SAMPLES_PER_MS, cue.end * SAMPLES_PER_MS
        if spans and lo - spans[-1][1] < gap:
            # Too close to come back up in between: stay down rather than bob up for a moment.
            spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
        else:
            spans.append((lo, hi))
    return spans


def ducking(timeline: Timeline, depth_db: float = DEPTH_DB) -> Ducking:
    """The gain curve that dips the bed by `depth_db` under every cue of `timeline`."""
    at: list[int] = []
    db: list[float] = []
    attack, release = ATTACK_MS * SAMPLES_PER_MS, RELEASE_MS * SAMPLES_PER_MS
    for lo, hi in ducked_spans(timeline):
        at += [lo - attack, lo, hi, hi + release]
        db += [0.0, -depth_db, -depth_db, 0.0]
    return Ducking(tuple(at), tuple(db), timeline.length * SAMPLES_PER_MS)
