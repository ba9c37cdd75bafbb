"""Synthesised tones: the soft chime, made from sines (no files, no engine)."""

from __future__ import annotations

import numpy as np

from voicecoach.units import RATE


def chime(ms: int, pitch: float = 528.0, level: float = 0.25) -> np.ndarray:
    """A soft bell-like tone `ms` long: a quick fade-in and a long exponential decay."""
    n = ms * RATE // 1000
    t = np.arange(n, dtype=np.float64) / RATE
    # A fundamental with two quiet partials sounds like a small bowl, not a beep.
    wave = (np.sin(2 * np.pi * pitch * t)
            + 0.3 * np.sin(2 * np.pi * pitch * 2.01 * t)
            + 0.12 * np.sin(2 * np.pi * pitch * 3.02 * t)) / 1.42
    attack = np.minimum(1.0, t / 0.01)          # 10 ms: no click
    decay = np.exp(-t / max(0.05, ms / 1000 / 4))
    tail = np.minimum(1.0, (n - np.arange(n)) / (RATE * 0.02))  # end on silence
    return np.round(wave * attack * decay * tail * level * 32767).astype(np.int16)


def _glide(ms: int, f0: float, f1: float, level: float) -> np.ndarray:
    n = ms * RATE // 1000
    t = np.arange(n, dtype=np.float64) / RATE
    freq = f0 + (f1 - f0) * t / max(t[-1], 1e-9) if n else t
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    wave = (np.sin(phase) + 0.2 * np.sin(2 * phase)) / 1.2
    envelope = np.sin(np.pi * np.arange(n) / max(n - 1, 1)) ** 2   # swells in and out: no click
    return np.round(wave * envelope * level * 32767).astype(np.int16)


def rise(ms: int = 300, level: float = 0.3) -> np.ndarray:
    """The hands-free earcon before tighten and breathe in: a soft tone gliding up a fifth."""
    return _glide(ms, 440.0, 660.0, level)


def fall(ms: int = 300, level: float = 0.3) -> np.ndarray:
    """The hands-free earcon before release and breathe out: a soft tone gliding down a fifth."""
    return _glide(ms, 660.0, 440.0, level)
