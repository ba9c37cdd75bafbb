"""With no sound device, `play` and `today` give the exact export command for what was asked, and it works."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import NO_AUDIO_DEVICE, VoicecoachError
from voicecoach.player import play
from voicecoach.player.output import EXPORT_HINT

LIBRARY = Path(__file__).resolve().parent.parent / "scripts"
MINE = """
voicecoach: 1
title: My own minute
params: {hold: 2}
steps:
  - section: Settle
  - say: Let your shoulders drop.
  - section: Hold
  - squeeze: {hold: $hold, rest: 2, reps: 1}
  - say: Well done.
"""


@pytest.fixture
def no_device(monkeypatch, tmp_path):
    """The sound card fails to open as simpleaudio's does on a machine without one (see test_play for the real one)."""
    def refuse():
        raise VoicecoachError("no audio device to play on (Error opening PCM device. -- CODE: -2 -- MSG: No such "
                              "file or directory); " + EXPORT_HINT, exit_code=NO_AUDIO_DEVICE)
    monkeypatch.setattr(play, "SimpleaudioOutput", refuse)
    monkeypatch.chdir(tmp_path)


def invoke(shared_cache, *args):
    return CliRunner().invoke(cli, ["--cache-dir", str(shared_cache.root), *args])


def suggested(output: str) -> list[str]:
    """The command in the one line, as the shell would split it."""
    found = re.findall(r"`(voicecoach [^`]+)`", output)
    assert len(found) == 1, output
    return shlex.split(found[0])


# What was asked, and the export options the suggestion must carry (after `export NAME`, before `-o session.mp3`).
ASKED = [
    (["play"], ["pelvic-floor-release"]),
    (["play", "trainer", "--set", "size=2"], ["trainer", "--set", "size=2"]),
    (["play", "shower", "--hands-free"], ["shower", "--hands-free"]),
    (["play", "shower", "--hands-free", "--pre-roll", "5", "--rate", "120", "--volume", "0.5", "--voice", "pyttsx3"],
     ["shower", "--rate", "120", "--voice", "pyttsx3", "--volume", "0.5", "--hands-free", "--pre-roll", "5"]),
    (["play", "belly-breathing", "--background", "rain", "--background-level", "-24", "--from", "2"],
     ["belly-breathing", "--background", "rain", "--background-level", "-24"]),
    (["play", str(LIBRARY / "trainer.yaml"), "--set", "size=3", "--set", "hold=4"],
     ["trainer", "--set", "size=3", "--set", "hold=4"]),
    (["today"], ["pelvic-floor-release"]),
    (["today", "4"], ["trainer", "--set", "size=2"]),
    (["today", "4", "--set", "size=1", "--hands-free"], ["trainer", "--hands-free", "--set", "size=1"]),
    (["today", "4", "--background", "rain", "--background-level", "-24", "--no-keep-alive"],
     ["trainer", "--background", "rain", "--background-level", "-24", "--no-keep-alive", "--set", "size=2"]),
]


@pytest.mark.parametrize("asked, carried", ASKED, ids=[" ".join(a) for a, _ in ASKED])
def test_no_device_names_the_export_of_what_was_asked_in_one_calm_line(no_device, shared_cache, asked, carried):
    result = invoke(shared_cache, *asked)
    assert result.exit_code == NO_AUDIO_DEVICE, result.output
    line = result.stderr
    assert line.count("\n") == 1 and line.startswith("There is no sound device here to play on"), line
    assert not re.search(r"Error|PCM|CODE|ALSA|SCRIPT", line)          # no raw device text, no placeholder
    words = suggested(line)
    assert words[:3] == ["voicecoach", "--cache-dir", str(shared_cache.root)]
    assert words[3:5] == ["export", carried[0]] and words[-2:] == ["-o", "session.mp3"]
    assert options(words[5:-2]) == options(carried[1:])


def options(words: list[str]) -> tuple[list, list]:
    """The options as (sorted groups of an option and its value, the --set values in order)."""
    groups: list[list[str]] = []
    for word in words:
        if word.startswith("--"):
            groups.append([word])
        else:
            groups[-1].append(word)
    return sorted(g for g in groups if g[0] != "--set"), [g for g in groups if g[0] == "--set"]


def test_a_name_with_spaces_is_quoted_so_that_it_pastes(no_device, shared_cache, tmp_path):
    path = tmp_path / "my own minute's.yaml"
    path.write_text(textwrap.dedent(MINE), encoding="utf-8")
    result = invoke(shared_cache, "play", str(path), "--set", "hold=3")
    assert result.exit_code == NO_AUDIO_DEVICE, result.output
    assert suggested(result.stderr)[3:] == ["export", str(path), "--set", "hold=3", "-o", "session.mp3"]


@pytest.mark.parametrize("asked, said", [
    (["play", "trainer", "--set", "sise=2"], "--set sise: the script has no parameter `sise`"),
    (["play", "trainer", "--set", "size"], "--set 'size': write it as name=value"),
    (["play", "trainer", "--from", "nowhere"], "there is no section 'nowhere'"),
    (["play", "shower", "--hands-free", "--from", "nowhere"], "there is no section 'nowhere'"),
    (["play", "belly-breathing", "--voice", "flite:nobody"], "flite has no voice 'nobody'"),
    (["play", "belly-breathing", "--background", "no-such-bed.ogg"], "no-such-bed.ogg"),
    (["today", "--set", "sise=2"], "--set sise: the script has no parameter `sise`"),
    (["today", "4", "--set", "size=x=1"], "size"),
])
def test_a_mistake_in_what_was_asked_is_said_instead_of_the_device(no_device, shared_cache, asked, said):
    result = invoke(shared_cache, *asked)
    assert result.exit_code == 1, result.output
    assert said in result.output and "sound device" not in result.output, result.output
    assert result.output.count("Error:") == 1 and "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize("asked", [["play", "trainer", "--set", "size=2"], ["play", "shower", "--hands-free"],
                                   ["today", "4"], ["today"], ["today", "4", "--background", "rain", "--no-keep-alive"],
                                   ["play", "belly-breathing", "--background", "rain", "--from", "2"]],
                         ids=" ".join)
def test_every_suggested_command_runs_and_writes_the_file(no_device, shared_cache, tmp_path, asked):
    words = suggested(invoke(shared_cache, *asked).stderr)
    done = CliRunner().invoke(cli, words[1:])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "session.mp3").stat().st_size > 10_000
    assert done.output.startswith("Wrote session.mp3")


@pytest.mark.slow
def test_a_suggestion_for_a_quoted_path_runs(no_device, shared_cache, tmp_path):
    path = tmp_path / "my own minute's.yaml"
    path.write_text(textwrap.dedent(MINE), encoding="utf-8")
    words = suggested(invoke(shared_cache, "play", str(path), "--set", "hold=3").stderr)
    done = CliRunner().invoke(cli, words[1:])
    assert done.exit_code == 0 and (tmp_path / "session.mp3").is_file(), done.output


@pytest.mark.slow
def test_the_real_command_without_a_sound_card_gives_the_command(shared_cache, tmp_path):
    # The real simpleaudio on an ALSA card that does not exist, in a process of its own.
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw card 77 }\n", encoding="utf-8")
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "VOICECOACH_CONFIG": str(tmp_path / "none.yaml"),
           "VOICECOACH_DB": str(tmp_path / "log.sqlite3"), "PYTHONPATH": str(LIBRARY.parent)}
    done = subprocess.run([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(shared_cache.root), "play",
                           "trainer", "--set", "size=2"], env=env, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == NO_AUDIO_DEVICE and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "PCM" not in done.stderr and "ALSA" not in done.stderr, done.stderr
    assert suggested(done.stderr)[3:] == ["export", "trainer", "--set", "size=2", "-o", "session.mp3"]
