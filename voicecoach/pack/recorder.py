"""Recording a pack phrase by phrase: a countdown, the take with a level meter, played back, then keep / redo /
play again / skip / quit; a take is kept only when asked, and whole.

Keys come from the terminal one at a time (no Enter needed); when stdin is not a terminal (a pipe, a
test), each line read is one key, so a recording can be driven by a script.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from voicecoach.pack import store
from voicecoach.pack.capture import Capture
from voicecoach.pack.clean import clean
from voicecoach.speech import packs
from voicecoach.units import RATE

FRAME_MS = 10
SPEECH_DB = -50.0             # a frame under this is never the voice
ABOVE_FLOOR_DB = 15.0         # ... nor one within this of the quietest frame so far (the room)
MIN_SPEECH_MS = 100           # this much voice before a pause can end the take


@dataclass(frozen=True)
class Timing:
    countdown_s: int = 3          # "3, 2, 1" before each take
    end_silence_ms: int = 1500    # a take ends after this long a pause once the words have started
    wait_s: float = 10.0          # ... or when no voice comes within this long
    max_s: float = 30.0           # ... and never lasts longer than this


class KeySource(Protocol):
    def wait(self, allowed: str) -> str: ...
    def poll(self) -> str | None: ...


class TerminalKeys:
    """Single keys from the terminal (player.terminal.Keys in cbreak mode)."""

    def __init__(self, keys):
        self.keys = keys

    def wait(self, allowed: str) -> str:
        while True:
            key = self.keys.read(0.5)
            if key is not None and key.lower() in allowed:
                return key.lower()

    def poll(self) -> str | None:
        key = self.keys.read(0)
        return key.lower() if key else None


class LineKeys:
    """Keys from a pipe or file: the first letter of each line; its end is `q` (quit)."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdin

    def wait(self, allowed: str) -> str:
        while True:
            line = self.stream.readline()
            if not line:
                return "q"
            key = line.strip()[:1].lower() or "\n"
            if key in allowed:
                return key

    def poll(self) -> str | None:
        return None         # a pipe's keys answer the questions; a take ends on a pause


@dataclass(frozen=True)
class Captured:
    samples: np.ndarray       # mono int16 at `rate`
    rate: int
    key: str | None = None    # a key that ended the take early (q quit, s skip, r redo); None: it ended itself


def level_db(block: np.ndarray) -> float:
    if not len(block):
        return -100.0
    rms = float(np.sqrt(np.mean((block.astype(np.float64) / 32768.0) ** 2)))
    return max(-100.0, 20 * np.log10(rms)) if rms > 0 else -100.0


def capture_take(capture: Capture, timing: Timing, keys: KeySource,
                 meter: Callable[[float, float], None] | None = None) -> Captured:
    """Samples from `capture` until the speaker pauses after speaking (or a key, or the time limits)."""
    rate = capture.rate
    frame = rate * FRAME_MS // 1000
    parts: list[np.ndarray] = []
    pending = np.zeros(0, dtype=np.int16)
    total = spoken = quiet = 0
    floor = 0.0
    next_meter = 0
    while True:
        key = keys.poll()
        if key in ("q", "s", "r"):
            return Captured(np.concatenate(parts or [pending]), rate, key)
        if key in ("\n", "\r", " ") and spoken:
            break               # done speaking: Enter or space ends the take at once
        block = capture.read()
        parts.append(block)
        pending = np.concatenate([pending, block])
        while len(pending) >= frame:
            level = level_db(pending[:frame])
            pending = pending[frame:]
            total += frame
            floor = min(floor, level) if total > frame else level
            if level >= max(SPEECH_DB, floor + ABOVE_FLOOR_DB):
                spoken += frame
                quiet = 0
            elif spoken:
                quiet += frame
            if meter and total >= next_meter:
                meter(level, total / rate)
                next_meter = total + rate // 10
        if spoken >= rate * MIN_SPEECH_MS // 1000 and quiet >= rate * timing.end_silence_ms // 1000:
            break
        if total >= timing.max_s * rate or (not spoken and total >= timing.wait_s * rate):
            break
    return Captured(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16), rate)


def _count(keys: KeySource, sleep: Callable[[float], None], seconds: float = 1.0, step: float = 0.05) -> str | None:
    """Wait `seconds` of the countdown, watching for q (quit) or s (skip); the key, if one came."""
    for _ in range(round(seconds / step)):
        key = keys.poll()
        if key in ("q", "s"):
            return key
        sleep(step)
    return None


@dataclass(frozen=True)
class Outcome:
    kept: tuple[str, ...]
    skipped: tuple[str, ...]
    quit: bool


KEEP_KEYS = "k: keep  r: redo  p: play again  s: skip  q: quit"
REDO_KEYS = "r: redo  s: skip  q: quit"


def record(pack: packs.Pack, texts: Sequence[str], *, open_capture: Callable[[], Capture],
           play: Callable[[np.ndarray], None], keys: KeySource, say: Callable[[str], None],
           timing: Timing = Timing(), meter: Callable[[float, float], None] | None = None,
           consent: str | None = None, sleep: Callable[[float], None] = time.sleep) -> tuple[packs.Pack, Outcome]:
    """Record each of `texts` into `pack`, asking keep / redo / play again / skip / quit after each take."""
    kept: list[str] = []
    skipped: list[str] = []
    for n, text in enumerate(texts, 1):
        say(f"[{n}/{len(texts)}] Say: {text}")
        while True:
            key = None
            for second in range(timing.countdown_s, 0, -1):
                say(f"  {second}...")
                key = _count(keys, sleep)
                if key in ("q", "s"):
                    break
            if key == "q":
                return pack, Outcome(tuple(kept), tuple(skipped), True)
            if key == "s":
                skipped.append(text)
                break
            say("  Speak now (a pause ends the take; s skips, q quits).")
            capture = open_capture()
            try:
                took = capture_take(capture, timing, keys, meter)
            finally:
                capture.close()
            if took.key == "q":
                return pack, Outcome(tuple(kept), tuple(skipped), True)
            if took.key == "s":
                skipped.append(text)
                break
            if took.key == "r":
                continue
            cleaned = clean(took.samples, took.rate, pack.loudness)
            if not cleaned.usable:
                say("  " + cleaned.problems[0])
                key = keys.wait("rsq")
            else:
                play(cleaned.samples)
                for problem in cleaned.problems:
                    say("  " + problem)
                say(f"  {len(cleaned.samples) / RATE:.1f} s. {KEEP_KEYS}")
                key = keys.wait("krpsq")
                while key == "p":
                    play(cleaned.samples)
                    key = keys.wait("krpsq")
            if key == "k":
                pack = store.keep(pack, text, cleaned.samples, consent)
                kept.append(text)
                say("  Kept.")
                break
            if key == "s":
                skipped.append(text)
                break
            if key == "q":
                return pack, Outcome(tuple(kept), tuple(skipped), True)
            # r: the same phrase again
    return pack, Outcome(tuple(kept), tuple(skipped), False)


def interactive(stream=None) -> bool:
    """Whether keys can be read one at a time from `stream` (default stdin): a terminal."""
    stream = stream if stream is not None else sys.stdin
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return False
