"""Mixing: placing every cue's samples at its exact offset in one session buffer."""

from __future__ import annotations

from typing import Mapping

import numpy as np

from .speech import SAMPLES_PER_MS
from .timeline import Timeline
from .tones import chime


def assemble(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> np.ndarray:
    """The session as mono int16 samples: one allocation, each cue copied once (linear time)."""
    out = np.zeros(timeline.length * SAMPLES_PER_MS, dtype=np.int16)
    tones: dict[tuple, np.ndarray] = {}
    for cue in timeline.cues:
        if cue.kind == "chime":
            key = (cue.length, cue.pitch)
            if key not in tones:
                tones[key] = chime(cue.length, cue.pitch)
            clip = tones[key]
        else:
            clip = clips[cue.text]
        at = cue.start * SAMPLES_PER_MS
        out[at: at + len(clip)] = clip[: len(out) - at]
    return out
