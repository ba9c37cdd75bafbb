"""Synthesised tones: the soft chime, made from sines (no files, no engine)."""

from __future__ import annotations

import numpy as np

from .speech import RATE


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
