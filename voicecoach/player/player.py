"""The player's logic over a timeline: position, pause and resume, seeking by section, waits; no sound, no terminal.

Positions are in samples of the session buffer (24 per millisecond), so a seek lands on
the exact first sample of a section and a resume continues at the exact sample it paused on.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass

import numpy as np

from voicecoach.exercise.timeline import Timeline
from voicecoach.player.output import Output
from voicecoach.units import SAMPLES_PER_MS

# Pressing `p` within this long of a section's start goes to the section before.
AGAIN_MS = 2000


@dataclass(frozen=True)
class Status:
    """What the player is doing, for a status line."""
    state: str                 # ready (not started), playing, paused, waiting, done
    position: int              # ms into the session
    length: int                # ms
    section: str | None        # name of the section playing, None before the first
    cue: str | None            # the latest spoken cue at or before the position, in this section
    wait_left: int = 0         # ms left of a wait's timeout


class Player:
    """Drives an Output through a session buffer; call poll() often and the key methods as keys arrive."""

    def __init__(self, timeline: Timeline, audio: np.ndarray, output: Output, *,
                 waits: bool = True, start_ms: int = 0, clock=time.monotonic):
        self.timeline = timeline
        self.audio = audio
        self.output = output
        self.clock = clock
        self.state = "ready"
        self.cursor = min(start_ms * SAMPLES_PER_MS, len(audio))   # where the current write began
        self._written = 0            # samples handed over since the cursor
        # (end of prompt, where playing goes on) of the wait ahead or held
        self._wait: tuple[int, int] | None = None
        self._deadline = 0.0
        # (prompt end, resume point) in samples, for every wait that holds for some time.
        self._waits = sorted((c.end * SAMPLES_PER_MS, (c.end + c.wait) * SAMPLES_PER_MS)
                             for c in timeline.cues if c.role == "wait" and c.wait > 0) if waits else []
        self._spoken = [c for c in timeline.cues if c.kind == "speech"]
        self._spoken_starts = [c.start for c in self._spoken]

    # ------------------------------------------------------------ driving

    def start(self) -> None:
        """Begin playing at the starting position."""
        self._play_from(self.cursor)

    def _play_from(self, sample: int) -> None:
        self.output.stop()
        self.cursor = sample
        self._wait = None
        for end, resume in self._waits:
            if sample <= end:
                self._wait = (end, resume)
                break
        stop_at = self._wait[0] if self._wait else len(self.audio)
        segment = self.audio[sample:stop_at]
        self._written = len(segment)
        self.state = "playing"
        if self._written:
            self.output.write(segment)
        else:
            self.poll()

    def poll(self) -> Status:
        """Notice a finished segment or an expired wait; return the status now."""
        if self.state == "playing" and self.output.position() >= self._written:
            self.cursor += self._written
            self._written = 0
            if self._wait is not None:
                self.state = "waiting"
                self._deadline = self.clock() + (self._wait[1] - self._wait[0]) / (SAMPLES_PER_MS * 1000)
            else:
                self.state = "done"
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
        if self.state == "playing":
            return self.cursor + min(self.output.position(), self._written)
        if self.state == "waiting":
            end, resume = self._held()
            left = max(0.0, self._deadline - self.clock())
            return max(end, resume - int(left * SAMPLES_PER_MS * 1000))
        if self.state == "done":
            return len(self.audio)
        return self.cursor

    # ------------------------------------------------------------ keys

    def toggle_pause(self) -> None:
        """Space: pause where we are, resume from exactly there; during a wait, go on."""
        if self.state == "playing":
            here = self.position()
            self.output.stop()
            self.cursor, self._written, self.state = here, 0, "paused"
        elif self.state in ("paused", "ready"):
            self._play_from(self.cursor)
        elif self.state == "waiting":
            self._play_from(self._held()[1])

    def go_on(self) -> None:
        """Enter: during a wait, go on; otherwise nothing."""
        if self.state == "waiting":
            self._play_from(self._held()[1])

    def next_section(self) -> None:
        """`n`: the first sample of the next section (or the end)."""
        here = self.position() // SAMPLES_PER_MS
        later = [s.start for s in self.timeline.sections if s.start > here]
        self.seek(later[0] * SAMPLES_PER_MS if later else len(self.audio))

    def previous_section(self) -> None:
        """`p`: the start of this section; pressed again at its start, the section before."""
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
        sample = max(0, min(sample, len(self.audio)))
        if sample >= len(self.audio):
            self.stop()
            self.cursor = len(self.audio)
            self.state = "done"
        elif self.state in ("paused", "ready"):
            self.output.stop()
            self.cursor, self._written = sample, 0
        else:
            self._play_from(sample)

    def stop(self) -> None:
        """Silence at once."""
        self.output.stop()
        self._written = 0
        if self.state != "done":
            self.state = "paused"

    # ------------------------------------------------------------ status

    def status(self) -> Status:
        pos = self.position()
        ms = min(pos // SAMPLES_PER_MS, self.timeline.length)
        i = self.timeline.section_at(ms)
        k = bisect.bisect_right(self._spoken_starts, ms) - 1
        cue = self._spoken[k].text if k >= 0 and self._spoken[k].section == i else None
        wait_left = 0
        if self.state == "waiting":
            wait_left = max(0, int((self._deadline - self.clock()) * 1000))
        return Status(self.state, ms, self.timeline.length,
                      self.timeline.sections[i].name if i is not None else None, cue, wait_left)
