"""The terminal side of the player: single keys without Enter, and a status line; the terminal is always restored."""

from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time

from voicecoach.player.player import Status
from voicecoach.units import minutes

HELP = "Keys: space pause/resume, n next section, p previous, q quit."
BAR = 20


class Keys:
    """Keys as they are pressed, when stdin is a terminal; a context manager that puts the terminal back."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdin
        try:
            self.fd = self.stream.fileno()
            self.interactive = os.isatty(self.fd)
        except (AttributeError, ValueError, OSError):
            self.fd, self.interactive = None, False
        self._saved = None
        self._old_term = None

    def __enter__(self) -> "Keys":
        if self.interactive:
            import termios
            import tty
            self._saved = termios.tcgetattr(self.fd)
            # cbreak, not raw: keys arrive one at a time without echo, and Ctrl-C still
            # raises KeyboardInterrupt, so it stops the sound at once.
            tty.setcbreak(self.fd)
            # A plain `kill` must also give the terminal back, through the same finally blocks.
            self._old_term = signal.signal(signal.SIGTERM, _terminate)
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def restore(self) -> None:
        """Give the terminal its settings back (safe to call twice)."""
        if self._saved is not None:
            import termios
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
            signal.signal(signal.SIGTERM, self._old_term)

    def read(self, timeout: float) -> str | None:
        """The next key pressed within `timeout` seconds, or None."""
        if not self.interactive:
            time.sleep(timeout)
            return None
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self.fd, 16)
        if not data:              # the terminal went away: behave as if nobody presses keys
            self.interactive = False
            return None
        return data.decode("utf-8", "replace")[:1]


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def status_text(status: Status, title: str, width: int, start: int = 0) -> str:
    """One status line that fits `width` columns; times count from `start` (ms), where playing began, so the
    length is the one `play` announced (the session from there: `--from` plays only part of it)."""
    position, length = max(0, status.position - start), max(0, status.length - start)
    filled = min(BAR, BAR * position // length) if length else BAR
    bar = "[" + "#" * filled + "-" * (BAR - filled) + "]"
    times = f"{minutes(position)} / {'~' if status.estimated else ''}{minutes(length)}"
    where = status.section or title
    if status.state == "holding":
        what = "Getting the next words ready..."
    elif status.state == "paused":
        what = "Paused - space to go on"
    elif status.state == "waiting":
        what = f"Take your time - space when ready ({status.wait_left // 1000 + 1} s)"
    elif status.state == "done":
        what = "Done"
    else:
        what = status.cue or ""
    tail = f" {times} {bar}"
    head = f"{where} | {what}" if what else where
    room = max(0, width - 1 - len(tail))
    if len(head) > room:
        head = head[: max(0, room - 3)] + "..." if room > 3 else head[:room]
    return head.ljust(room) + tail


class StatusLine:
    """Redraws one line in place on a terminal; elsewhere prints one line per section."""

    def __init__(self, title: str, stream=None):
        self.title = title
        self.stream = stream if stream is not None else sys.stdout
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._last: str | None = None
        self._section = object()
        self.start = 0      # ms where playing began: the player's position before it starts (see show)

    def show(self, status: Status) -> None:
        """Draw `status`; the first one, of a player not yet started, says where playing begins."""
        if status.state == "ready":
            self.start = status.position
        if self.tty:
            width = shutil.get_terminal_size((80, 24)).columns
            line = status_text(status, self.title, width, self.start)
            if line != self._last:
                self.stream.write("\r" + line + "\x1b[K")
                self.stream.flush()
                self._last = line
        elif status.section != self._section and status.section is not None:
            self._section = status.section
            self.stream.write(f"{minutes(max(0, status.position - self.start))}  {status.section}\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own, above the status line."""
        self.end()
        self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        """Leave the status line, so what follows starts on a fresh line."""
        if self.tty and self._last is not None:
            self.stream.write("\n")
            self.stream.flush()
            self._last = None
