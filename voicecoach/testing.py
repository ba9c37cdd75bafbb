"""Test doubles behind the real interfaces: an audio output that records what it is given, a slow engine."""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import replace

import numpy as np

from voicecoach.speech.engine import Engine, EngineVoice, worker_context
from voicecoach.speech.engines import engine as named_engine
from voicecoach.speech.voice import Voice


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


def synthesise_in_worker(voice: Voice, text: str, timeout: float = 20) -> tuple[np.ndarray, int]:
    """An engine's own samples and rate for `text`, made in a fresh worker process as the pool makes them."""
    engine = named_engine(voice.engine)
    engine.warm_up(voice)
    ctx = worker_context()
    parent, child = ctx.Pipe(duplex=False)

    def work(conn):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        try:
            conn.send(("done", engine.synthesise(voice, text, timeout)))
        except BaseException as e:  # the parent raises it
            conn.send(("error", f"{type(e).__name__}: {e}"))
    proc = ctx.Process(target=work, args=(child,), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout + 5):
            raise TimeoutError(f"{voice.engine} did not finish {text[:40]!r}")
        kind, payload = parent.recv()
    finally:
        proc.kill()
        proc.join()
    if kind == "error":
        raise RuntimeError(payload)
    return payload


class SlowEngine(Engine):
    """A real engine (espeak-ng through pyttsx3) that takes `delay` seconds longer for every phrase."""

    def __init__(self, delay: float, inner: str = "pyttsx3"):
        self.inner = named_engine(inner)
        self.delay = delay
        self.name = "slow"
        self.install = self.inner.install
        self.program = self.inner.program
        self.check = self.inner.check
        self.per_core = 1

    def installed(self) -> bool:
        return self.inner.installed()

    def voices(self) -> list[EngineVoice]:
        return self.inner.voices()

    def warm_up(self, voice: Voice) -> None:
        self.inner.warm_up(voice)

    def synthesise(self, voice: Voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        time.sleep(self.delay)
        return self.inner.synthesise(replace(voice, engine=self.inner.name), text, timeout)
