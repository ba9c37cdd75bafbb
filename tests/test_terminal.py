"""The status line's text and its two ways of showing (in place on a terminal, one line per section elsewhere)."""

import io

from voicecoach.player.player import Status
from voicecoach.player.terminal import Keys, StatusLine, status_text


def test_status_text_fits_the_width_and_shows_where_we_are():
    s = Status("playing", 61_000, 122_000, "Tighten, then let go", "Tighten gently, as if holding in wind.")
    line = status_text(s, "Title", 80)
    assert len(line) == 79
    assert line.startswith("Tighten, then let go | Tighten gently")
    assert line.endswith("1:01 / 2:02 [##########----------]")
    assert "..." in line                                  # the cue was shortened, not the times


def test_status_text_for_pause_wait_and_before_the_first_section():
    assert "Paused - space to go on" in status_text(Status("paused", 0, 1000, "A", "Hi."), "T", 80)
    waiting = status_text(Status("waiting", 0, 1000, "A", "Hi.", wait_left=4_200), "T", 80)
    assert "space when ready (5 s)" in waiting
    assert status_text(Status("playing", 0, 1000, None, "Starting in 20 seconds."), "Shower", 80).startswith(
        "Shower | Starting in 20 seconds.")


def test_without_a_terminal_one_line_per_section():
    out = io.StringIO()
    line = StatusLine("T", out)
    for ms, section in [(0, None), (10, "One"), (500, "One"), (900, "Two"), (950, "Two")]:
        line.show(Status("playing", ms, 1000, section, None))
    line.end()
    assert out.getvalue() == "0:00  One\n0:00  Two\n"


def test_keys_without_a_terminal_never_arrive():
    with Keys(io.StringIO()) as keys:
        assert not keys.interactive and keys.read(0.0) is None
