"""Where takes come from: a small capture interface, ALSA behind it (captures/alsa.py).

A capture gives mono int16 samples at the rate it reports:
    rate            samples per second it delivers
    read()          the next block (blocks until it is there; about 10 ms of sound)
    close()         let go of the device

The microphone is reached through pyalsaaudio, which talks to ALSA directly (its headers are all it needs
to build): sounddevice would need PortAudio, a system library not installed by default here. The same
choice lets tests stand a known recording in for the microphone with ALSA's own file plugin (`infile`).
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

CAPTURE_RATE = 48_000         # what microphones deliver natively (the backends' default too)


class Capture(Protocol):
    rate: int

    def read(self) -> np.ndarray: ...
    def close(self) -> None: ...


def backends() -> dict[str, Callable[..., Capture]]:
    """Every capture backend by name, the default first."""
    from voicecoach.pack.captures.alsa import AlsaCapture
    return {"alsa": AlsaCapture}


def open_capture(device: str = "default", rate: int = CAPTURE_RATE) -> Capture:
    """The default capture backend opened on `device` (ALSA's default: the microphone chosen in the system)."""
    return backends()["alsa"](device=device, rate=rate)
