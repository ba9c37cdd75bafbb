"""Where samples go to be heard: a small output interface, simpleaudio behind it, and a recording sink for tests.

An output takes mono int16 samples at speech.RATE:
    write(samples)  queue samples to play after anything already queued
    position()      samples played since the last stop() (or since opening)
    stop()          silence at once and forget everything queued
    close()         stop and let go of the device
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

EXPORT_HINT = "write the session to a file instead with `voicecoach export SCRIPT -o session.mp3`"


class Output(Protocol):
    def write(self, samples: np.ndarray) -> None: ...
    def position(self) -> int: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


