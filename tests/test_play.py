"""`voicecoach play` end to end: the recording sink, the real simpleaudio backend on ALSA's null device,
and the keys and status line under a pseudo-terminal (pexpect)."""

import io
import re
import shlex
import subprocess
import sys

import numpy as np
import pexpect
import pytest
from test_output import alsa_home, read_wav, recording_home

from voicecoach.errors import NO_AUDIO_DEVICE, VoicecoachError
from voicecoach.exercise.timeline import clock
from voicecoach.handsfree import prepare_hands_free
from voicecoach.player.play import play_script
from voicecoach.session import prepare
from voicecoach.testing import RecordingSink

SHORT = """
voicecoach: 1
title: Short one
steps:
  - section: First
  - say: Breathe gently.
  - pause: 0.5
  - section: Second
  - wait: {say: "Take your time.", timeout: 1}
  - say: Well done.
"""

LONG = """
voicecoach: 1
title: Keys test
steps:
  - section: First part
  - say: Hello there.
  - pause: 60
  - section: Second part
  - say: Here is the second part.
  - pause: 60
"""


def cli(*args):
    return [sys.executable, "-m", "voicecoach.cli", *args]


def test_play_script_through_the_sink_plays_the_whole_session(write_script, shared_cache):
    path = write_script(SHORT)
    sink, out = RecordingSink(instant=True), io.StringIO()
    assert play_script(path, shared_cache, output=sink, stdin=io.StringIO(), stdout=out) == "done"
    assert sink.first_write_at is not None          # benchmarks time start -> first sample from this
    # Nobody can press a key here, so the wait is its timeout as silence: exactly the rendered session.
    assert np.array_equal(sink.samples(), prepare(path, shared_cache).audio())
    lines = out.getvalue().splitlines()
    if lines[0].startswith("Getting the voice ready"):     # a cold cache: it says so, then plays while rendering
        lines = lines[1:]
    length = clock(prepare(path, shared_cache).timeline.length).split(".")[0]
    assert lines[0] in (f"Playing: Short one ({length}). Ctrl-C stops.", f"Playing: Short one (about {length}). Ctrl-C stops.") \
        or re.fullmatch(r"Playing: Short one \(about \d+:\d\d\)\. Ctrl-C stops\.", lines[0]), lines[0]
    assert [line.split("  ", 1)[1] for line in lines[1:-1]] == ["First", "Second"]   # one line per section
    assert lines[-1].startswith("Done.")


def test_a_played_session_is_recorded_in_the_practice_log(write_script, shared_cache, private_log):
    from voicecoach.practice.log import open_log
    path = write_script(SHORT)
    play_script(path, shared_cache, output=RecordingSink(instant=True),
                stdin=io.StringIO(), stdout=io.StringIO(), log=private_log)
    with open_log(private_log) as log:
        (entry,) = log.entries()
    total = prepare(path, shared_cache).timeline.length
    assert (entry.kind, entry.script, entry.status) == ("session", path.name, "complete")
    assert entry.completed_ms == entry.total_ms == total


def test_without_a_log_nothing_is_recorded(write_script, shared_cache, private_log):
    play_script(write_script(SHORT), shared_cache, output=RecordingSink(instant=True),
                stdin=io.StringIO(), stdout=io.StringIO())
    assert not private_log.exists()


def test_play_script_hands_free_plays_the_hands_free_session(write_script, shared_cache):
    path = write_script(SHORT)
    sink = RecordingSink(instant=True)
    play_script(path, shared_cache, hands_free=True, pre_roll=3, output=sink, stdin=io.StringIO(),
                stdout=io.StringIO())
    assert np.array_equal(sink.samples(), prepare_hands_free(path, shared_cache, pre_roll_s=3).audio())


def test_play_script_from_a_section(write_script, shared_cache):
    path = write_script(SHORT)
    sink = RecordingSink(instant=True)
    play_script(path, shared_cache, section="second", output=sink, stdin=io.StringIO(), stdout=io.StringIO())
    session = prepare(path, shared_cache)
    assert np.array_equal(sink.samples(), session.audio()[session.timeline.sections[1].start * 24:])
    with pytest.raises(VoicecoachError, match="no section 'Third'"):
        play_script(path, shared_cache, section="Third", output=RecordingSink(instant=True),
                    stdin=io.StringIO(), stdout=io.StringIO())


@pytest.mark.slow
def test_cli_plays_a_short_session_to_the_end_on_the_null_device(write_script, shared_cache, tmp_path):
    path = write_script(SHORT)
    expected = prepare(path, shared_cache).audio()          # also fills the cache for the child
    env, wav = recording_home(tmp_path)
    done = subprocess.run(cli("--cache-dir", str(shared_cache.root), "play", str(path)),
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Done." in done.stdout and "Second" in done.stdout
    assert np.array_equal(read_wav(wav), expected)          # what reached the device is the session


@pytest.mark.slow
def test_cli_without_an_audio_device_says_so_in_one_line(write_script, shared_cache, tmp_path):
    path = write_script(SHORT)
    done = subprocess.run(cli("--cache-dir", str(shared_cache.root), "play", str(path)),
                          env=alsa_home(tmp_path, "type hw card 77"), capture_output=True, text=True, timeout=60)
    assert done.returncode == NO_AUDIO_DEVICE
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("There is no sound device here to play on")
    # The command to paste keeps the cache the user chose, and writes this very script.
    suggested = done.stderr.split("`")[1]
    assert suggested == f"voicecoach --cache-dir {shared_cache.root} export {path} -o session.mp3"
    assert done.stdout == ""


def spawn_in_terminal(tmp_path, shared_cache, script, *extra):
    """`voicecoach play` in a pseudo-terminal, with the terminal's settings saved before and after."""
    env = alsa_home(tmp_path, "type null")
    command = " ".join(shlex.quote(a) for a in cli("--cache-dir", str(shared_cache.root), "play",
                                                                  str(script), *extra))
    shell = f"stty -g > before; {command}; rc=$?; stty -g > after; exit $rc"
    child = pexpect.spawn("bash", ["-c", shell], cwd=str(tmp_path), env=env, encoding="utf-8",
                          dimensions=(24, 100), timeout=20)
    child.logfile_read = io.StringIO()
    return child


def finish(child, tmp_path) -> int:
    """Wait for the end; the terminal must be as it was and no traceback shown. Returns the exit status."""
    child.expect(pexpect.EOF)
    child.close()
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()     # terminal restored
    assert "Traceback" not in child.logfile_read.getvalue()
    return child.exitstatus


@pytest.mark.slow
def test_keys_under_a_terminal_pause_skip_and_quit(write_script, shared_cache, tmp_path):
    path = write_script(LONG)
    prepare(path, shared_cache)
    child = spawn_in_terminal(tmp_path, shared_cache, path)
    child.expect_exact("Keys: space pause/resume")
    child.expect(r"\rFirst part \| Hello there\.\s+0:0\d / 2:0\d \[")
    child.send(" ")
    child.expect(r"\rFirst part \| Paused - space to go on\s+0:0\d")
    child.send(" ")
    child.expect(r"\rFirst part \| Hello there\.")
    child.send("n")
    child.expect(r"\rSecond part \| Here is the second part\.\s+1:0\d / 2:0\d \[##########")
    child.send("q")
    child.expect_exact("Stopped. Come back whenever you like.")
    child.expect_exact("How did that feel? 1 very hard")
    child.send("4")     # one key, recorded on the entry just played
    child.expect(r"Saved in your log as entry \d+: test\.yaml, partial, 1:0\d of 2:0\d, felt comfortable\.")
    assert finish(child, tmp_path) == 0


@pytest.mark.slow
def test_ctrl_c_stops_at_once_and_gives_the_terminal_back(write_script, shared_cache, tmp_path):
    path = write_script(LONG)
    prepare(path, shared_cache)
    child = spawn_in_terminal(tmp_path, shared_cache, path)
    child.expect(r"\rFirst part \| Hello there\.")
    child.sendintr()
    child.expect_exact("Stopped.")
    assert finish(child, tmp_path) == 130


@pytest.mark.slow
def test_a_wait_in_a_terminal_goes_on_with_space(write_script, shared_cache, tmp_path):
    path = write_script(SHORT.replace("timeout: 1", "timeout: 60"))
    prepare(path, shared_cache)
    child = spawn_in_terminal(tmp_path, shared_cache, path)
    child.expect(r"Second \| Take your time - space when ready \(60 s\)")
    child.send(" ")
    child.expect(r"Second \| Well done\.")
    child.expect_exact("Done. Well done for taking this time.")
    child.expect_exact("How did that feel?")
    child.send("\r")    # Enter skips, and the closing line says how to rate it later
    child.expect(r"Saved in your log as entry (\d+): test\.yaml, complete\. \(to say how it felt later: "
                 r"`voicecoach log rate \d+ 4`\)")
    assert finish(child, tmp_path) == 0


def test_pre_roll_without_hands_free_is_a_usage_error(write_script):
    from click.testing import CliRunner

    from voicecoach.cli import cli as command
    result = CliRunner().invoke(command, ["play", str(write_script(SHORT)), "--pre-roll", "5"], obj={})
    assert result.exit_code == 2 and "--pre-roll is for --hands-free" in result.output


def test_while_holding_for_words_still_rendering_the_player_looks_again_within_a_few_milliseconds():
    from voicecoach.player.play import run
    from voicecoach.player.player import Status

    class Held:
        """A player held twice for rendering, then done."""
        def __init__(self):
            self.states = ["ready", "holding", "holding", "playing", "done"]

        def start(self):
            pass

        def poll(self):
            return self.status()

        def status(self):
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            return Status(state, 0, 1000, None, None)

        def stop(self):
            pass

    class Keys:
        def __init__(self):
            self.timeouts = []

        def read(self, timeout):
            self.timeouts.append(timeout)

    class Quiet:
        def show(self, status):
            pass

    keys = Keys()
    assert run(Held(), keys, Quiet(), tick=0.05) == "done"
    # The words that arrive while holding are played within 5 ms, not at the next 50-ms status tick.
    assert keys.timeouts[:2] == [0.005, 0.005] and keys.timeouts[2] == 0.05
