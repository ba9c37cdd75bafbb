"""simpleaudio: the sound card, each write one gapless buffer."""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from contextlib import contextmanager

import numpy as np

from voicecoach.errors import NO_AUDIO_DEVICE, VoicecoachError
from voicecoach.player.output import EXPORT_HINT
from voicecoach.units import RATE


@contextmanager
def _quiet_stderr():
    """Hide what libasound prints on fd 2 while opening a device; our own message says it once."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class SimpleaudioOutput:
    """The sound card through simpleaudio; each write is one gapless buffer."""

    def __init__(self, clock=time.monotonic):
        try:
            import simpleaudio
        except ImportError:
            raise VoicecoachError("playing needs simpleaudio (pip install simpleaudio); or " + EXPORT_HINT,
                                  exit_code=NO_AUDIO_DEVICE) from None
        self._sa = simpleaudio
        self._clock = clock
        self._handle = None
        self._started = 0.0
        self._length = 0
        self._done = 0            # samples of finished writes since the last stop
        self._pending: deque = deque()
        # Open the device once now, so a machine without one says so before anything else happens.
        self._start(np.zeros(1, dtype=np.int16))
        self.stop()

    def _start(self, samples: np.ndarray) -> None:
        data = np.ascontiguousarray(samples, dtype=np.int16)
        try:
            with _quiet_stderr():
                self._handle = self._sa.play_buffer(data, 1, 2, RATE)
        except Exception as e:
            self._handle = None
            raise VoicecoachError(f"no audio device to play on ({str(e).strip()}); " + EXPORT_HINT,
                                  exit_code=NO_AUDIO_DEVICE) from None
        self._started = self._clock()
        self._length = len(data)

    def write(self, samples: np.ndarray) -> None:
        """Play `samples` now, or after the buffer now playing."""
        if len(samples) == 0:
            return
        if self._handle is None:
            self._start(samples)
        else:
            self._pending.append(samples)

    def position(self) -> int:
        """Samples played since the last stop, from the wall clock, held back until the device is done."""
        while self._handle is not None:
            elapsed = int((self._clock() - self._started) * RATE)
            # The wall clock paces a device that finishes early (ALSA's null device plays
            # instantly); is_playing() holds back a device that is still sounding.
            if elapsed < self._length:
                return self._done + elapsed
            if self._handle.is_playing():
                return self._done + self._length - 1
            self._done += self._length
            self._handle = None
            if self._pending:
                self._start(self._pending.popleft())
        return self._done

    def stop(self) -> None:
        """Silence at once; the position starts again from 0."""
        if self._handle is not None:
            self._handle.stop()
        self._handle = None
        self._pending.clear()
        self._done = 0

    def close(self) -> None:
        self.stop()
