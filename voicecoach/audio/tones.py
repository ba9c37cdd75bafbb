"""Synthesised tones (the soft chime, the hands-free earcons), made from sines (no files, no engine), and each
made at its level relative to the voice."""

from __future__ import annotations

import numpy as np

from voicecoach.audio import loudness
from voicecoach.exercise.timeline import Cue
from voicecoach.units import RATE


def _chime_wave(ms: int, pitch: float) -> np.ndarray:
    n = ms * RATE // 1000
    t = np.arange(n, dtype=np.float64) / RATE
    # A fundamental with two quiet partials sounds like a small bowl, not a beep.
    wave = (np.sin(2 * np.pi * pitch * t)
            + 0.3 * np.sin(2 * np.pi * pitch * 2.01 * t)
            + 0.12 * np.sin(2 * np.pi * pitch * 3.02 * t)) / 1.42
    attack = np.minimum(1.0, t / 0.01)          # 10 ms: no click
    decay = np.exp(-t / max(0.05, ms / 1000 / 4))
    tail = np.minimum(1.0, (n - np.arange(n)) / (RATE * 0.02))  # end on silence
    return wave * attack * decay * tail


def chime(ms: int, pitch: float = 528.0, level: float = 0.25) -> np.ndarray:
    """A soft bell-like tone `ms` long, peaking near `level` of full scale: a quick fade-in and a long decay."""
    return np.round(_chime_wave(ms, pitch) * level * 32767).astype(np.int16)


def _glide_wave(ms: int, f0: float, f1: float) -> np.ndarray:
    n = ms * RATE // 1000
    t = np.arange(n, dtype=np.float64) / RATE
    freq = f0 + (f1 - f0) * t / max(t[-1], 1e-9) if n else t
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    wave = (np.sin(phase) + 0.2 * np.sin(2 * phase)) / 1.2
    envelope = np.sin(np.pi * np.arange(n) / max(n - 1, 1)) ** 2   # swells in and out: no click
    return wave * envelope


def rise(ms: int = 300, level: float = 0.3) -> np.ndarray:
    """The hands-free earcon before tighten and breathe in: a soft tone gliding up a fifth."""
    return np.round(_glide_wave(ms, 440.0, 660.0) * level * 32767).astype(np.int16)


def fall(ms: int = 300, level: float = 0.3) -> np.ndarray:
    """The hands-free earcon before release and breathe out: a soft tone gliding down a fifth."""
    return np.round(_glide_wave(ms, 660.0, 440.0) * level * 32767).astype(np.int16)


def is_tone(cue: Cue) -> bool:
    """True for a cue no engine speaks: a chime (keep-alive and ready tones too) or an earcon."""
    return cue.kind != "speech"


def wave(cue: Cue) -> np.ndarray:
    """The shape of a tone cue's sound, as floats of full scale (its level is set by at_level)."""
    if cue.kind == "earcon":
        # Earcon cues carry a text such as "(rise tone, 300 ms, -6 dB)"; the direction is its first word.
        rising = (cue.text or "").startswith("(rise")
        return _glide_wave(cue.length, 440.0, 660.0) if rising else _glide_wave(cue.length, 660.0, 440.0)
    return _chime_wave(cue.length, cue.pitch or 528.0)


def own_loudness(samples: np.ndarray) -> float:
    """A sound's loudness (LUFS) over its own span, gated as BS.1770 gates a session (floats of full scale)."""
    x = np.asarray(samples, dtype=np.float64) * 32768.0
    total = len(x)
    if not total:
        return float("-inf")
    return loudness.gated(loudness.sub_blocks([loudness.contribution(0, loudness.energy(x), total)], total), total)


def at_level(shape: np.ndarray, voice_lufs: float, level_db: float) -> np.ndarray:
    """`shape` (floats of full scale) in int16 units, unrounded, scaled so that its own loudness is
    `level_db` from `voice_lufs`."""
    heard = own_loudness(shape)
    if not len(shape) or not np.isfinite(heard):
        return np.zeros(len(shape))
    return np.asarray(shape, dtype=np.float64) * (32768.0 * 10 ** ((voice_lufs + level_db - heard) / 20))


def reference(voice_lufs: float) -> float:
    """The voice loudness tones are set against: the voice's, or the loudness target when there is no voice."""
    # A session with no voice to measure (chimes only, or silence) sets its tones under a voice on target.
    return voice_lufs if np.isfinite(voice_lufs) else loudness.TARGET_LUFS


def tone(cue: Cue, voice_lufs: float) -> np.ndarray:
    """A tone cue's int16 samples at its level (cue.level, dB) relative to a voice of loudness `voice_lufs`."""
    exact = at_level(wave(cue), reference(voice_lufs), cue.level)
    return np.clip(np.round(exact), -32768, 32767).astype(np.int16)
