"""The player's logic over a timeline: position, pause and resume, seeking by section, waits; no sound, no terminal.

Positions are in samples of the session (24 per millisecond), so a seek lands on the exact first
sample of a section and a resume continues at the exact sample it paused on. The samples come from
a source: a whole session in memory, or one still rendering (stream.SessionStream), whose samples
are final up to a point that moves ahead; when playing reaches that point the player holds (state
"holding") and goes on at exactly the next sample once it is there, so no cue ever moves.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voicecoach.exercise.timeline import Timeline
from voicecoach.player.output import Output
from voicecoach.units import SAMPLES_PER_MS

# Pressing `p` within this long of a section's start goes to the section before.
AGAIN_MS = 2000
# The output is kept this far ahead of what is heard, and given at most this much at once.
LOOKAHEAD = 5 * 24_000
CHUNK = 120 * 24_000


class Source(Protocol):
    """Samples of a session; final from the start up to available()."""
    @property
    def timeline(self) -> Timeline: ...
    def available(self) -> int: ...
    def total(self) -> int | None: ...
    def read(self, lo: int, hi: int) -> np.ndarray: ...
    def error(self) -> BaseException | None: ...


class Whole:
    """A session whose samples are all in memory."""

    def __init__(self, timeline: Timeline, audio: np.ndarray):
        self.timeline = timeline
        self.audio = audio

    def available(self) -> int:
        return len(self.audio)

    def total(self) -> int | None:
        return len(self.audio)

    def read(self, lo: int, hi: int) -> np.ndarray:
        return self.audio[lo:hi]

    def error(self) -> BaseException | None:
        return None


@dataclass(frozen=True)
class Status:
    """What the player is doing, for a status line."""
    state: str                 # ready (not started), playing, holding (rendering behind), paused, waiting, done
    position: int              # ms into the session
    length: int                # ms
    section: str | None        # name of the section playing, None before the first
    cue: str | None            # the latest spoken cue at or before the position, in this section
    wait_left: int = 0         # ms left of a wait's timeout
    estimated: bool = False    # the length is an estimate (the session is still rendering)


class Player:
    """Drives an Output through a session; call poll() often and the key methods as keys arrive."""

    def __init__(self, timeline: Timeline | None, audio: np.ndarray | None, output: Output, *,
                 waits: bool = True, start_ms: int = 0, clock=time.monotonic, source: Source | None = None):
        if source is None:
            if timeline is None or audio is None:
                raise ValueError("a Player needs a timeline and its audio, or a source")
            source = Whole(timeline, audio)
        self.source = source
        self.output = output
        self.clock = clock
        self.state = "ready"
        self.cursor = start_ms * SAMPLES_PER_MS   # where the current write began
        total = source.total()
        if total is not None:
            self.cursor = min(self.cursor, total)
        self._written = 0            # samples handed over since the cursor
        self._waits_on = waits
        # (end of prompt, where playing goes on) of the wait ahead or held
        self._wait: tuple[int, int] | None = None
        self._deadline = 0.0
        self._pending_next: int | None = None    # `n` pressed before the next section was known: from here

    @property
    def timeline(self) -> Timeline:
        return self.source.timeline

    def _end(self) -> int | None:
        return self.source.total()

    def _next_wait(self, sample: int) -> tuple[int, int] | None:
        """The first wait whose prompt ends at or after `sample`, among those already final."""
        if not self._waits_on:
            return None
        final = self.source.available()
        for c in self.timeline.cues:
            if c.role == "wait" and c.wait > 0:
                end = c.end * SAMPLES_PER_MS
                if end > final:
                    return None          # not final yet: looked for again once it is
                if sample <= end:
                    return end, (c.end + c.wait) * SAMPLES_PER_MS
        return None

    # ------------------------------------------------------------ driving

    def start(self) -> None:
        """Begin playing at the starting position."""
        self._play_from(self.cursor)

    def _play_from(self, sample: int) -> None:
        self.output.stop()
        self.cursor = sample
        self._written = 0
        self._wait = None
        self.state = "playing"
        self._feed()
        self.poll()

    def _feed(self) -> None:
        """Hand the output what is final, up to the next wait or the end, keeping it a little ahead."""
        here = self.cursor + self._written
        if self._wait is None:
            self._wait = self._next_wait(here)
        stop_at = self.source.available()
        if self._wait is not None:
            stop_at = min(stop_at, self._wait[0])
        if stop_at <= here:
            return
        # Everything final at once at the start (a whole session is one buffer, as before); later only
        # when what is queued runs low, so the output gets a few large buffers, not many small ones.
        if self._written and self._written - self.output.position() > LOOKAHEAD:
            return
        chunk = self.source.read(here, min(stop_at, here + CHUNK if self._written else stop_at))
        if len(chunk):
            self.output.write(chunk)
            self._written += len(chunk)

    def poll(self) -> Status:
        """Notice a finished segment, an expired wait or newly rendered audio; return the status now."""
        failed = self.source.error()
        if failed is not None:
            self.output.stop()
            raise failed
        if self._pending_next is not None:
            self._next_known(self._pending_next)
        if self.state in ("playing", "holding") and self._pending_next is None:
            self._feed()
            if self.output.position() >= self._written:
                here = self.cursor + self._written
                end = self._end()
                if self._wait is not None and here >= self._wait[0]:
                    self.cursor, self._written = here, 0
                    self.state = "waiting"
                    self._deadline = self.clock() + (self._wait[1] - self._wait[0]) / (SAMPLES_PER_MS * 1000)
                elif end is not None and here >= end:
                    self.cursor, self._written = end, 0
                    self.state = "done"
                else:
                    self.state = "holding"
            else:
                self.state = "playing"
        if self.state == "waiting" and self.clock() >= self._deadline:
            self._play_from(self._held()[1])
        return self.status()

    def _held(self) -> tuple[int, int]:
        """The wait being held; the waiting state is only entered with one, so None is a bug."""
        if self._wait is None:
            raise RuntimeError("player is waiting without a wait")
        return self._wait

    def position(self) -> int:
        """The sample being heard now."""
        if self.state in ("playing", "holding"):
            return self.cursor + min(self.output.position(), self._written)
        if self.state == "waiting":
            end, resume = self._held()
            left = max(0.0, self._deadline - self.clock())
            return max(end, resume - int(left * SAMPLES_PER_MS * 1000))
        return self.cursor

    # ------------------------------------------------------------ keys

    def toggle_pause(self) -> None:
        """Space: pause where we are, resume from exactly there; during a wait, go on."""
        if self.state in ("playing", "holding"):
            here = self.position()
            self.output.stop()
            self.cursor, self._written, self.state = here, 0, "paused"
            self._pending_next = None
        elif self.state in ("paused", "ready"):
            self._play_from(self.cursor)
        elif self.state == "waiting":
            self._play_from(self._held()[1])

    def go_on(self) -> None:
        """Enter: during a wait, go on; otherwise nothing."""
        if self.state == "waiting":
            self._play_from(self._held()[1])

    def next_section(self) -> None:
        """`n`: the first sample of the next section (or the end); one not yet rendered is waited for."""
        self._next_known(self.position() // SAMPLES_PER_MS)

    def _next_known(self, here: int) -> None:
        final = self.source.available() // SAMPLES_PER_MS
        later = [s.start for s in self.timeline.sections if s.start > here]
        end = self._end()
        if later and later[0] <= final:
            self._pending_next = None
            self.seek(later[0] * SAMPLES_PER_MS)
        elif not later and end is not None:
            self._pending_next = None
            self.seek(end)
        elif self._pending_next is None:
            # Where the next section starts is known once everything before it is rendered; until
            # then the player holds here, and jumps as soon as it is known.
            self._pending_next = here
            self.cursor = self.position()
            self.output.stop()
            self._written = 0
            if self.state != "paused":
                self.state = "holding"

    def previous_section(self) -> None:
        """`p`: the start of this section; pressed again at its start, the section before."""
        self._pending_next = None
        here = self.position() // SAMPLES_PER_MS
        starts = [s.start for s in self.timeline.sections]
        i = bisect.bisect_right(starts, here) - 1
        if i < 0:
            target = 0
        elif here - starts[i] < AGAIN_MS:
            target = starts[i - 1] if i > 0 else 0
        else:
            target = starts[i]
        self.seek(target * SAMPLES_PER_MS)

    def seek(self, sample: int) -> None:
        """Go to `sample`; keep playing if playing (or waiting), stay paused if paused."""
        end = self._end()
        sample = max(0, sample if end is None else min(sample, end))
        if end is not None and sample >= end:
            self.stop()
            self.cursor = end
            self.state = "done"
        elif self.state in ("paused", "ready"):
            self.output.stop()
            self.cursor, self._written = sample, 0
        else:
            self._play_from(sample)

    def stop(self) -> None:
        """Silence at once; the position stays where the sound stopped."""
        if self.state in ("playing", "holding"):
            self.cursor = self.position()
        self.output.stop()
        self._written = 0
        if self.state != "done":
            self.state = "paused"

    # ------------------------------------------------------------ status

    def status(self) -> Status:
        timeline = self.timeline
        pos = self.position()
        ms = min(pos // SAMPLES_PER_MS, timeline.length)
        i = timeline.section_at(ms)
        spoken = [c for c in timeline.cues if c.kind == "speech" and c.start <= ms]
        cue = spoken[-1].text if spoken and spoken[-1].section == i else None
        wait_left = 0
        if self.state == "waiting":
            wait_left = max(0, int((self._deadline - self.clock()) * 1000))
        return Status(self.state, ms, timeline.length, timeline.sections[i].name if i is not None else None, cue,
                      wait_left, self._end() is None)
