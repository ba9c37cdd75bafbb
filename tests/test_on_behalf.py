"""What the tool does on the user's behalf, it says: a bed lowered to keep the limits, why a file lasts longer
than the session played, one length in the player's header and status line; `render` renders what `play` plays."""

from __future__ import annotations

import io
import json
import re
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.handsfree import prepare_hands_free
from voicecoach.player.play import play_script
from voicecoach.player.player import Status
from voicecoach.player.terminal import StatusLine, status_text
from voicecoach.testing import RecordingSink
from voicecoach.units import RATE, minutes

WAITS = """
voicecoach: 1
title: With a wait
steps:
  - section: Start
  - say: Settle in.
  - wait: {say: "Rest here. Press space when you are ready.", timeout: 4}
  - section: End
  - say: Well done.
  - pause: 1
"""

PLAIN = """
voicecoach: 1
title: Plain
steps:
  - section: First
  - say: Let your shoulders soften.
  - pause: 3
  - section: Second
  - breathe: {in: 3, out: 4, cycles: 1}
  - say: Well done.
  - pause: 2
"""


def run(cache, *args):
    return CliRunner().invoke(cli, ["--cache-dir", str(cache.root), *map(str, args)])


def wav_samples(path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def wav_ms(path) -> int:
    return len(wav_samples(path)) * 1000 // RATE


# ------------------------------------------------------------ a bed lowered to keep the limits

@pytest.mark.slow
def test_export_says_when_it_lowered_the_bed_and_by_how_much(write_script, shared_cache, tmp_path):
    path, out = write_script(PLAIN), tmp_path / "loud-bed.wav"
    done = run(shared_cache, "export", path, "-o", out, "--background", "rain", "--background-level", "-6")
    assert done.exit_code == 0, done.output
    said = re.search(r"The rain background was lowered by ([\d.]+) dB \(to ([\d.]+) dB under the voice\)",
                     done.output)
    assert said, done.output
    assert float(said.group(1)) > 0 and float(said.group(2)) == pytest.approx(6 + float(said.group(1)), abs=0.11)
    # Asked for no more than the file can hold, nothing is said.
    quiet = run(shared_cache, "export", path, "-o", tmp_path / "soft-bed.wav", "--background", "rain",
                "--background-level", "-30")
    assert quiet.exit_code == 0 and "lowered" not in quiet.output, quiet.output


MOSTLY_QUIET = """
voicecoach: 1
title: Mostly quiet
steps:
  - say: Hello.
  - pause: 65
  - section: Quiet
    keep_alive: false
  - pause: 65
  - section: Rest
  - pause: 45
  - say: Bye.
"""


@pytest.mark.slow
@pytest.mark.parametrize("args, under", [((), "its tones stay"), (("--background", "waves"), "its tones and background")])
def test_a_file_the_voice_cannot_bring_to_the_target_says_so_and_why(write_script, shared_cache, tmp_path, args, under):
    out = tmp_path / "quiet.wav"
    done = run(shared_cache, "export", write_script(MOSTLY_QUIET), "-o", out, *args)
    assert done.exit_code == 0, done.output
    lufs = float(re.search(r"Wrote \S*quiet.wav \(2:55, (-[\d.]+) LUFS", done.output).group(1))
    assert lufs < -17
    said = re.search(r"quiet.wav is at (-[\d.]+) LUFS, under the -16 LUFS a phone expects: its voice speaks for "
                     r"([\d.]+) seconds? of 2:55", done.output)
    assert said, done.output
    assert float(said.group(1)) == lufs and float(said.group(2)) < 3 and under in done.output
    # Lowering the bed would only make such a file quieter still: it is left where it was asked to be.
    assert "lowered" not in done.output
    # The same session without its keep-alive tones is all voice where it sounds: on target, nothing said.
    plain = run(shared_cache, "export", write_script(MOSTLY_QUIET), "-o", tmp_path / "plain.wav", "--no-keep-alive")
    assert plain.exit_code == 0 and "-16.0 LUFS" in plain.output and "phone expects" not in plain.output, plain.output


def test_a_mastered_session_carries_what_was_taken_off_the_bed(write_script, shared_cache):
    from voicecoach.export.mastering import master
    from voicecoach.session import prepare
    session = prepare(write_script(PLAIN), shared_cache, for_file=True, background="brown", background_level=-6)
    first = master(session, shared_cache)
    assert first.bed_lowered > 0
    assert first.session.background.gain_db == pytest.approx(
        session.background.under(-16.0).gain_db - first.bed_lowered, abs=1e-6)
    again = master(session, shared_cache)          # from the cache: the same fact
    assert again.reused and again.bed_lowered == first.bed_lowered


# ------------------------------------------------------------ show, render and export: one length, or why not

def test_show_and_render_say_how_long_the_file_is_when_a_wait_makes_it_differ(write_script, shared_cache, tmp_path):
    path = write_script(WAITS)
    exported = tmp_path / "file.wav"
    assert run(shared_cache, "export", path, "-o", exported, "--no-transcript").exit_code == 0
    as_file = wav_ms(exported)
    shown = json.loads(run(shared_cache, "show", path, "--json").output)
    assert shown["file_length"] * 1000 == pytest.approx(as_file, abs=1)
    assert shown["length"] * 1000 != pytest.approx(as_file, abs=1000)   # the file's words for the wait differ
    text = run(shared_cache, "show", path).output
    assert f"As a file (`voicecoach export`) this session lasts {minutes(as_file)}" in text
    rendered = run(shared_cache, "render", path, "-o", tmp_path / "r.wav")
    assert rendered.exit_code == 0, rendered.output
    assert f"lasts {minutes(as_file)}, not {minutes(wav_ms(tmp_path / 'r.wav'))}" in rendered.output


def test_without_waits_show_render_and_export_agree_and_say_nothing_more(write_script, shared_cache, tmp_path):
    path = write_script(PLAIN)
    assert run(shared_cache, "export", path, "-o", tmp_path / "f.wav", "--no-transcript").exit_code == 0
    shown = json.loads(run(shared_cache, "show", path, "--json").output)
    assert shown["length"] == shown["file_length"] == pytest.approx(wav_ms(tmp_path / "f.wav") / 1000, abs=0.001)
    assert "As a file" not in run(shared_cache, "render", path, "-o", tmp_path / "r.wav").output
    assert wav_ms(tmp_path / "r.wav") == wav_ms(tmp_path / "f.wav")


@pytest.mark.parametrize("pre_roll", [0, 3])
def test_hands_free_show_render_and_export_give_one_length(write_script, shared_cache, tmp_path, pre_roll):
    path = write_script(WAITS)
    hands = ["--hands-free", "--pre-roll", pre_roll]
    assert run(shared_cache, "export", path, "-o", tmp_path / "f.wav", "--no-transcript", *hands).exit_code == 0
    rendered = run(shared_cache, "render", path, "-o", tmp_path / "r.wav", *hands)
    assert rendered.exit_code == 0, rendered.output
    shown = json.loads(run(shared_cache, "show", path, "--json", *hands).output)
    assert wav_ms(tmp_path / "r.wav") == wav_ms(tmp_path / "f.wav") == pytest.approx(shown["length"] * 1000, abs=1)
    assert "As a file" not in rendered.output


# ------------------------------------------------------------ render renders what play plays

def played(path, cache, **options) -> np.ndarray:
    sink = RecordingSink(instant=True)
    assert play_script(path, cache, output=sink, stdin=io.StringIO(), stdout=io.StringIO(), **options) == "done"
    return sink.samples()


@pytest.mark.parametrize("options, args", [
    ({"background": "waves", "background_level": -14}, ["--background", "waves", "--background-level", "-14"]),
    ({"hands_free": True, "pre_roll": 2}, ["--hands-free", "--pre-roll", "2"]),
    ({"hands_free": True, "pre_roll": 2, "background": "rain"}, ["--hands-free", "--pre-roll", "2", "--background",
                                                                 "rain"]),
])
def test_render_takes_plays_options_and_writes_what_play_plays(write_script, shared_cache, tmp_path, options, args):
    path, out = write_script(WAITS), tmp_path / "r.wav"
    run(shared_cache, "show", path)                 # every phrase in the cache first, as a played session has them
    done = run(shared_cache, "render", path, "-o", out, *args)
    assert done.exit_code == 0, done.output
    assert np.array_equal(wav_samples(out), played(path, shared_cache, **options))


def test_render_hands_free_without_keep_alive_is_that_session(write_script, shared_cache, tmp_path):
    path = write_script(PLAIN.replace("pause: 3", "pause: 40"))
    for flag, keep in (("--no-keep-alive", False), ("--keep-alive", True)):
        out = tmp_path / f"{keep}.wav"
        done = run(shared_cache, "render", path, "-o", out, "--hands-free", "--pre-roll", "3", flag)
        assert done.exit_code == 0, done.output
        expected = prepare_hands_free(path, shared_cache, pre_roll_s=3, keep_alive=keep)
        assert any(c.role == "presence" for c in expected.timeline.cues) == keep
        assert np.array_equal(wav_samples(out), expected.audio())


@pytest.mark.parametrize("args, says", [
    (["--pre-roll", "3"], "--pre-roll is for --hands-free"),
    (["--keep-alive"], "fills no silence with tones unless --hands-free"),
])
def test_render_refuses_what_only_hands_free_means(write_script, shared_cache, tmp_path, args, says):
    done = run(shared_cache, "render", write_script(PLAIN), "-o", tmp_path / "r.wav", *args)
    assert done.exit_code == 2 and says in done.output and not (tmp_path / "r.wav").exists()


def test_export_takes_no_keep_alive(write_script, shared_cache, tmp_path):
    path = write_script(PLAIN.replace("pause: 3", "pause: 40"))
    done = run(shared_cache, "export", path, "-o", tmp_path / "a.wav", "--no-keep-alive", "--no-transcript")
    assert done.exit_code == 0, done.output
    with_tones = run(shared_cache, "export", path, "-o", tmp_path / "b.wav", "--no-transcript")
    assert with_tones.exit_code == 0
    assert wav_ms(tmp_path / "a.wav") == wav_ms(tmp_path / "b.wav")
    assert not np.array_equal(wav_samples(tmp_path / "a.wav"), wav_samples(tmp_path / "b.wav"))


# ------------------------------------------------------------ the player's header and status line

def lengths_said(text: str) -> tuple[str, list[str]]:
    header = re.search(r"Playing(?: hands-free)?: .*\((?:about )?(\d+:\d\d)\)", text)
    assert header, text
    return header.group(1), re.findall(r" / ~?(\d+:\d\d) \[", text)


@pytest.mark.parametrize("section", [None, "End", "2"])
def test_the_header_and_the_status_line_show_the_same_length(write_script, shared_cache, section):
    path = write_script(WAITS)
    out = io.StringIO()
    out.isatty = lambda: True        # type: ignore[method-assign]   # the status line redraws, as on a terminal
    sink = RecordingSink(instant=True)
    play_script(path, shared_cache, section=section, output=sink, stdin=io.StringIO(), stdout=out)
    header, status = lengths_said(out.getvalue())
    assert status and set(status) == {header}
    played_ms = len(sink.samples()) * 1000 // RATE
    assert header == minutes(played_ms)


def test_the_status_line_counts_from_where_playing_began():
    line = StatusLine("T", io.StringIO())
    line.show(Status("ready", 60_000, 180_000, "Closing", None))
    assert line.start == 60_000
    assert " 0:30 / 2:00 " in status_text(Status("playing", 90_000, 180_000, "Closing", "Hi."), "T", 80, line.start)
