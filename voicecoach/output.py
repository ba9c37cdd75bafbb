"""Where samples go to be heard: a small output interface, simpleaudio behind it, and a recording sink for tests.

An output takes mono int16 samples at speech.RATE:
    write(samples)  queue samples to play after anything already queued
    position()      samples played since the last stop() (or since opening)
    stop()          silence at once and forget everything queued
    close()         stop and let go of the device
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from .errors import NO_AUDIO_DEVICE, VoicecoachError
from .speech import RATE

EXPORT_HINT = "write the session to a file instead with `voicecoach export SCRIPT -o session.mp3`"


class Output(Protocol):
    def write(self, samples: np.ndarray) -> None: ...
    def position(self) -> int: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


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


class RecordingSink:
    """An output that keeps what it 'plays'; time moves by advance(n), or instantly.

    `first_write_at` is the time.perf_counter() of the first write, so a benchmark can
    measure how long a player takes to hand over its first sample.
    """

    def __init__(self, instant: bool = False):
        self.instant = instant
        self.played: list[np.ndarray] = []   # every sample played, in order, as chunks
        self.writes: list[np.ndarray] = []   # every buffer handed over, in order
        self.stops = 0
        self.first_write_at: float | None = None
        self._queue: deque = deque()
        self._since_stop = 0

    def write(self, samples: np.ndarray) -> None:
        if self.first_write_at is None:
            self.first_write_at = time.perf_counter()
        data = np.array(samples, dtype=np.int16)   # a copy, as a device would take
        self.writes.append(data)
        if len(data):
            self._queue.append(data)
        if self.instant:
            self.advance(self.queued())

    def queued(self) -> int:
        """Samples written but not yet played."""
        return sum(len(q) for q in self._queue)

    def advance(self, n: int) -> int:
        """Play up to `n` queued samples; returns how many were played."""
        moved = 0
        while moved < n and self._queue:
            head = self._queue[0]
            take = min(len(head), n - moved)
            self.played.append(head[:take])
            if take == len(head):
                self._queue.popleft()
            else:
                self._queue[0] = head[take:]
            moved += take
        self._since_stop += moved
        return moved

    def position(self) -> int:
        return self._since_stop

    def stop(self) -> None:
        self._queue.clear()
        self._since_stop = 0
        self.stops += 1

    def close(self) -> None:
        self.stop()

    def samples(self) -> np.ndarray:
        """Everything played so far, as one array."""
        return np.concatenate(self.played) if self.played else np.zeros(0, dtype=np.int16)
