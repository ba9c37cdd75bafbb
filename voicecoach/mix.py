"""Mixing: placing every cue's samples at its exact offset, in one session buffer or block by block."""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from .speech import SAMPLES_PER_MS
from .timeline import Timeline
from .tones import chime

BLOCK_MS = 10_000   # 480 KB of int16: stays in the CPU cache while it is filled and written


def _sounds(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """(first sample, samples) for every cue, in timeline order; each chime synthesised once."""
    tones: dict[tuple, np.ndarray] = {}
    out = []
    for cue in timeline.cues:
        if cue.kind == "chime":
            key = (cue.length, cue.pitch)
            if key not in tones:
                tones[key] = chime(cue.length, cue.pitch)
            clip = tones[key]
        else:
            clip = clips[cue.text]
        out.append((cue.start * SAMPLES_PER_MS, clip))
    return out


def assemble(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> np.ndarray:
    """The session as mono int16 samples: one allocation, each cue copied once (linear time)."""
    out = np.zeros(timeline.length * SAMPLES_PER_MS, dtype=np.int16)
    for at, clip in _sounds(timeline, clips):
        out[at: at + len(clip)] = clip[: len(out) - at]
    return out


def blocks(timeline: Timeline, clips: Mapping[str, np.ndarray], block_ms: int = BLOCK_MS) -> Iterator[np.ndarray]:
    """The same samples as `assemble`, as consecutive blocks: a long session in little memory."""
    total = timeline.length * SAMPLES_PER_MS
    size = max(1, block_ms * SAMPLES_PER_MS)
    sounds = _sounds(timeline, clips)
    # Sounds still playing when a block ends carry over; later cues overwrite earlier ones, as in assemble.
    order = sorted(range(len(sounds)), key=lambda i: sounds[i][0])
    carried: list[int] = []
    nxt = 0
    for lo in range(0, total, size):
        hi = min(lo + size, total)
        # A new block each time, so a consumer may keep it; freed blocks are reused by the allocator.
        block = np.zeros(hi - lo, dtype=np.int16)
        while nxt < len(order) and sounds[order[nxt]][0] < hi:
            carried.append(order[nxt])
            nxt += 1
        carried.sort()
        still = []
        for i in carried:
            at, clip = sounds[i]
            end = min(at + len(clip), total)
            a, b = max(at, lo), min(end, hi)
            if a < b:
                block[a - lo: b - lo] = clip[a - at: b - at]
            if end > hi:
                still.append(i)
        carried = still
        yield block
