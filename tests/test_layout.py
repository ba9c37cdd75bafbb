"""Listings laid out for a terminal: 80 columns, wrapped under their column, commands kept whole to copy."""

from voicecoach.cli.layout import paragraphs, row, wrapped


def test_a_command_in_backticks_is_never_broken_across_lines():
    text = ("no audio device to play on; write a session to a file and play it elsewhere: "
            "`voicecoach export pelvic-floor-release --set hold=8 -o session.mp3`, then copy it")
    lines = wrapped(text, 4, columns=60)
    command = "`voicecoach export pelvic-floor-release --set hold=8 -o session.mp3`"
    assert any(command in line for line in lines), lines
    assert all(len(line) <= 60 for line in lines if command not in line)    # longer only to keep it whole
    assert " ".join(" ".join(lines).split()) == " ".join(text.split())     # nothing lost, nothing added
    assert all(line.startswith("    ") for line in lines)


def test_a_row_wraps_its_rest_under_its_own_start():
    lines = row([("ok", 4), ("default voice", 19)], "piper:joe, the most natural installed voice " * 3, columns=60)
    assert lines[0].startswith("ok  default voice      piper:joe")
    assert all(line.startswith(" " * 23) and len(line) <= 60 for line in lines[1:]) and len(lines) > 1


def test_paragraphs_keep_their_blank_lines():
    text = "A first line that is long enough to wrap at forty columns, surely.\n\nA second one."
    lines = paragraphs(text)
    assert "" in lines and lines[-1] == "A second one." and all(len(line) <= 80 for line in lines)
