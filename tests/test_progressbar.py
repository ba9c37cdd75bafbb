"""The progress line fits the terminal it is drawn on, and a terminal that cannot redraw gets plain lines.

The end-to-end tests run a real export with its stderr on a pseudo-terminal and read every byte drawn."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
import tty

import pytest

from voicecoach.cli.progressbar import ProgressBar, bar_line, cells

LIMIT_S = 60        # a guard against a hang, not a measurement

LABELS = ["Exporting pelvic-floor-release.mp3: rendering phrase 12 of 40", "Session 3 of 5: 骨盤底のリラックス練習",
          "Exporting e\u0301te\u0301.mp3", "Exporting \x1b[2J\rname\n.mp3", "", "x" * 300]


@pytest.mark.parametrize("label", LABELS)
def test_the_line_never_reaches_the_last_column(label):
    for width in range(1, 130):
        for fraction, left in ((0.0, ""), (0.42, "about 5 s left"), (1.0, "about 12 min left")):
            line = bar_line(label, fraction, left, width)
            assert cells(line) < width, (width, line)
            assert line.isprintable(), line               # a file name's escape codes are shown, not obeyed
            if width >= 5:
                assert f"{int(fraction * 100)}%" in line


def test_a_wide_terminal_shows_everything_and_a_narrow_one_keeps_what_matters():
    wide = bar_line("Exporting a.mp3", 0.5, "about 5 s left", 80)
    assert wide == "Exporting a.mp3  [############------------]  50%  about 5 s left"
    assert bar_line("Exporting a.mp3", 0.5, "about 5 s left", 30) == "Exporting a.mp3  50%"
    assert bar_line("Exporting pelvic-floor-release.mp3", 0.5, "", 20) == "Exporting p...  50%"


def test_a_dumb_terminal_gets_a_plain_line_for_each_tenth():
    out = _Terminal()
    with ProgressBar(out, clock=iter(range(1000)).__next__, env={"TERM": "dumb", "COLUMNS": "40"}) as bar:
        for step in range(101):
            bar.update(step / 100, f"Rendering phrase {step} of 100")
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 11 and lines[0].endswith(" 0%") and lines[-1].endswith("100%")
    assert all(cells(line) < 40 for line in lines)


def test_an_unusable_columns_falls_back_to_the_terminal_or_80():
    for given in ("", "0", "-5", "abc", "3x"):
        assert ProgressBar(_Terminal(), env={"COLUMNS": given, "TERM": "xterm"}).columns() == 80
    assert ProgressBar(_Terminal(), env={"COLUMNS": " 33 "}).columns() == 33
    assert ProgressBar(_Terminal(), env={}).dumb              # no TERM at all: no redraws either


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _export_on_a_terminal(tmp_path, env: dict, columns: int = 0) -> str:
    """Everything a real export writes to its stderr, a pseudo-terminal `columns` wide (0: size not set)."""
    script = tmp_path / "long.yaml"
    script.write_text("voicecoach: 1\ntitle: A title long enough to need shortening on a narrow terminal\nsteps:\n"
                      + "".join(f"  - say: Phrase number {n}, slowly.\n" for n in range(6)))
    master, slave = pty.openpty()
    tty.setraw(slave)                    # bytes as written: no newline turned into a carriage return and newline
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERM")} | env
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(tmp_path / "cache"), "export",
                             str(script), "-o", str(tmp_path / "a-rather-long-file-name-for-the-session.wav")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=full)
    os.close(slave)
    drawn, deadline = b"", time.monotonic() + LIMIT_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:              # the other end closed: the export is over
                break
            if not chunk:
                break
            drawn += chunk
    proc.kill()
    assert proc.wait() == 0
    os.close(master)
    return drawn.decode()


def _rows(drawn: str) -> list[str]:
    """What each redraw or line leaves on the screen, escape codes taken out."""
    return [piece.replace("\x1b[K", "") for line in drawn.split("\n") for piece in line.split("\r")]


@pytest.mark.slow
@pytest.mark.parametrize("env, columns", [({"TERM": "xterm", "COLUMNS": "30"}, 0),
                                          ({"TERM": "xterm", "COLUMNS": "20"}, 0),
                                          ({"TERM": "xterm"}, 24)])
def test_a_narrow_terminal_gets_lines_that_do_not_wrap(tmp_path, env, columns):
    width = int(env.get("COLUMNS", columns))
    drawn = _export_on_a_terminal(tmp_path, env, columns)
    rows = _rows(drawn)
    assert "%" in drawn and "\r" in drawn                     # it did draw, in place
    assert max(cells(row) for row in rows) < width, [row for row in rows if cells(row) >= width]


@pytest.mark.slow
def test_a_dumb_terminal_gets_plain_lines_without_redraws(tmp_path):
    drawn = _export_on_a_terminal(tmp_path, {"TERM": "dumb", "COLUMNS": "40"})
    assert "\r" not in drawn and "\x1b" not in drawn
    lines = drawn.splitlines()
    assert 1 <= len(lines) <= 11 and all("%" in line and cells(line) < 40 for line in lines), lines
