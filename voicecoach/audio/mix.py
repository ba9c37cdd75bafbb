"""Mixing: placing every cue's samples at its exact offset, in one session buffer or block by block."""

from __future__ import annotations

from typing import Iterable, Iterator, Mapping

import numpy as np

from voicecoach.audio.tones import chime
from voicecoach.exercise.timeline import Cue, Timeline
from voicecoach.units import SAMPLES_PER_MS

BLOCK_MS = 10_000   # 480 KB of int16: stays in the CPU cache while it is filled and written


def sound_key(cue: Cue) -> str:
    """The name a cue's samples go by in a session's clips: its text, or a chime's length and pitch."""
    # Brackets and the unit keep a chime's name apart from anything a script can say.
    if cue.kind == "chime":
        return f"(chime, {cue.length} ms, {cue.pitch:g} Hz)"
    # Only chimes go without text; any other cue without it would silently play a chime instead.
    if cue.text is None:
        raise ValueError(f"{cue.kind} cue at {cue.start} ms has no text")
    return cue.text


def sounds(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every distinct sound the timeline plays, by sound_key: the clips it uses and its chimes."""
    out: dict[str, np.ndarray] = {}
    for cue in timeline.cues:
        key = sound_key(cue)
        if key not in out:
            found = clips.get(key)
            out[key] = found if found is not None else chime(cue.length, cue.pitch)
    return out


def _sounds(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """(first sample, samples) for every cue, in timeline order; each chime synthesised once."""
    distinct = sounds(timeline, clips)
    return [(cue.start * SAMPLES_PER_MS, distinct[sound_key(cue)]) for cue in timeline.cues]


def assemble(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> np.ndarray:
    """The session as mono int16 samples: one allocation, each cue copied once (linear time)."""
    out = np.zeros(timeline.length * SAMPLES_PER_MS, dtype=np.int16)
    for at, clip in _sounds(timeline, clips):
        out[at: at + len(clip)] = clip[: len(out) - at]
    return out


def window(timeline: Timeline, clips: Mapping[str, np.ndarray], lo: int, hi: int) -> np.ndarray:
    """Samples `lo` to `hi` of the session, exactly as `assemble` places them, mixing only the cues that reach in."""
    out = np.zeros(max(0, hi - lo), dtype=np.int16)
    for cue in timeline.cues:        # in timeline order, so later cues overwrite earlier ones, as in assemble
        at = cue.start * SAMPLES_PER_MS
        if at >= hi:
            continue
        if cue.kind == "chime":
            clip = chime(cue.length, cue.pitch) if at + cue.length * SAMPLES_PER_MS > lo else None
        else:
            clip = clips.get(sound_key(cue))
        if clip is None or at + len(clip) <= lo:
            continue
        a, b = max(at, lo), min(at + len(clip), hi)
        out[a - lo: b - lo] = clip[a - at: b - at]
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


def under(voice: Iterable[np.ndarray], bed: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Voice blocks with a bed's blocks (float, in int16 units, the same sizes) added under them."""
    for v, b in zip(voice, bed):
        yield np.clip(np.round(v + b), -32768, 32767).astype(np.int16)
