"""The voice: everything that decides how a phrase sounds, and so its cache key."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RATE_WPM = 140        # calm: slower than espeak's 175


DEFAULT_VOLUME = 1.0


@dataclass(frozen=True)
class Voice:
    """Everything that decides how a phrase sounds (and so its cache key)."""
    engine: str = "pyttsx3"
    name: str | None = None          # engine voice id; None is the engine's default
    rate: int = DEFAULT_RATE_WPM     # words per minute
    volume: float = DEFAULT_VOLUME   # 0..1

    def identity(self) -> dict:
        return {"engine": self.engine, "voice": self.name or "", "rate": int(self.rate),
                "volume": round(float(self.volume), 3)}
