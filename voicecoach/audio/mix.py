"""Mixing: placing every cue's samples at its exact offset, in one session buffer or block by block."""

from __future__ import annotations

from typing import Collection, Iterable, Iterator, Mapping

import numpy as np

from voicecoach.audio import loudness
from voicecoach.audio.tones import is_tone, tone
from voicecoach.exercise.timeline import Cue, Timeline
from voicecoach.units import SAMPLES_PER_MS

BLOCK_MS = 10_000   # 480 KB of int16: stays in the CPU cache while it is filled and written


def sound_key(cue: Cue) -> str:
    """The name a cue's samples go by in a session's clips: its text, or a chime's length, pitch and level."""
    # Brackets and the unit keep a chime's name apart from anything a script can say.
    if cue.kind == "chime":
        return f"(chime, {cue.length} ms, {cue.pitch:g} Hz, {cue.level:g} dB)"
    # Only chimes go without text; any other cue without it would silently play a chime instead.
    if cue.text is None:
        raise ValueError(f"{cue.kind} cue at {cue.start} ms has no text")
    return cue.text


def sounds(timeline: Timeline, clips: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every distinct sound the timeline plays, by sound_key: the clips it uses and its tones (a tone not in
    `clips` is made at its level under a voice at the loudness target)."""
    out: dict[str, np.ndarray] = {}
    for cue in timeline.cues:
        key = sound_key(cue)
        if key not in out:
            found = clips.get(key)
            if found is None and not is_tone(cue):
                raise KeyError(f"no samples for {key!r}")
            out[key] = found if found is not None else tone(cue, loudness.TARGET_LUFS)
    return out


def voice_loudness(timeline: Timeline, clips: Mapping[str, np.ndarray], texts: Collection[str] | None = None) -> float:
    """The integrated loudness (LUFS) of the session's voice alone (its speech cues whose samples are in
    `clips`, and whose text is in `texts` if given; no tones, no bed), from each distinct sound once: what
    tones and beds are levelled against."""
    total = timeline.length * SAMPLES_PER_MS
    spoken = [c for c in timeline.cues if not is_tone(c) and sound_key(c) in clips
              and (texts is None or c.text in texts)]
    energies = {sound_key(c): loudness.energy(clips[sound_key(c)]) for c in spoken}
    parts = (loudness.contribution(c.start * SAMPLES_PER_MS, energies[sound_key(c)], total) for c in spoken)
    return loudness.gated(loudness.sub_blocks(parts, total), total)


def phrases_loudness(clips: Mapping[str, np.ndarray], texts: Iterable[str]) -> float:
    """The integrated loudness (LUFS) of the phrases `texts` (those in `clips`), each once, one after another:
    a voice's loudness that does not depend on where the phrases fall in a session."""
    known = [clips[t] for t in dict.fromkeys(texts) if t in clips]
    total = sum(len(x) for x in known)
    parts, at = [], 0
    for samples in known:
        parts.append(loudness.contribution(at, loudness.energy(samples), total))
        at += len(samples)
    return loudness.gated(loudness.sub_blocks(parts, total), total) if total else float("-inf")


def with_tones(timeline: Timeline, clips: Mapping[str, np.ndarray], voice_lufs: float | None = None) -> dict:
    """`clips` with every tone of `timeline` made at its level relative to the voice (`voice_lufs`, or the
    loudness of the voice in `clips`)."""
    heard = voice_loudness(timeline, clips) if voice_lufs is None else voice_lufs
    out = dict(clips)
    for cue in timeline.cues:
        if is_tone(cue):
            out[sound_key(cue)] = tone(cue, heard)
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
        clip = clips.get(sound_key(cue))
        if clip is None and is_tone(cue) and at + cue.length * SAMPLES_PER_MS > lo:
            clip = tone(cue, loudness.TARGET_LUFS)
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
