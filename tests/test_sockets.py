"""No socket of any family outside `serve`: every other command runs under a socket-recording harness.

Two recorders: an audit hook (Python's own socket calls, in this process and in the forked speech
workers, which inherit it) always; and strace (every socket the process tree makes, libraries'
C code included: espeak-ng's sound-server probe, onnxruntime's telemetry) where strace can run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.pack.phrases import stems

SCRIPT = """
voicecoach: 1
title: Quiet
steps:
  - say: Breathe in slowly.
  - pause: 1
  - say: And let it go.
"""

# Every command but serve (it listens: that is its job), and play and today, which plays a stage (they talk
# to the audio output).
EXCLUDED = {"serve", "play", "today", "record"}      # record, like the players, needs a sound device
# A sound server on TCP: a render that probes for one shows up as a connection, as in the report.
HOSTILE_ENV = {"PULSE_SERVER": "tcp:127.0.0.1:4713"}


def invocations(tmp: Path) -> list[list[str]]:
    """Each command with arguments that make it do its real work (render, encode, read the log)."""
    script = tmp / "quiet.yaml"
    # A recording to import, made by a real engine and named as `pack phrases` names it.
    takes = tmp / "takes"
    takes.mkdir(exist_ok=True)
    subprocess.run(["espeak-ng", "-w", str(takes / f"{stems(['And let it go.'])['And let it go.']}.wav"),
                    "And let it go."], check=True)
    return [
        ["show", str(script)],
        ["show", str(script), "--json"],
        ["render", str(script), "-o", str(tmp / "quiet.wav")],
        ["export", str(script), "-o", str(tmp / "quiet.mp3")],
        ["export", str(script), "-o", str(tmp / "quiet.opus")],
        ["export", str(script), "-o", str(tmp / "quiet.m4a")],
        ["list", "--dir", str(tmp)],
        ["voices"],
        ["log", "trainer", "--size", "2", "--comfort", "3"],
        ["log", "other", "--minutes", "5"],
        ["log", "session", str(script), "--comfort", "4"],
        ["log", "rate", "--note", "easier today"],
        ["log", "note", "1", "calmer by the end"],
        ["log", "list"],
        ["log", "export", "-o", str(tmp / "log.csv")],
        ["log", "check"],
        ["progress"],
        ["remind", "-o", str(tmp / "remind.ics")],
        ["pack", "phrases", "mine", str(script), "-o", str(tmp / "phrases.txt")],
        ["pack", "import", "mine", str(takes), "--consent", "my own voice"],
        ["pack", "export", "mine", "-o", str(tmp / "mine.zip")],
        ["cache", "info"],
        ["cache", "verify"],
        ["cache", "prune"],
        ["log", "delete", "1", "--yes"],
        ["doctor"],
        ["help", "export"],
        ["log", "forget", "--yes"],
    ]


def _leaves(group, prefix=()) -> set[tuple[str, ...]]:
    out = set()
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            out |= _leaves(command, prefix + (name,))
        else:
            out.add(prefix + (name,))
    return out


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "quiet.yaml").write_text(textwrap.dedent(SCRIPT).lstrip(), encoding="utf-8")
    monkeypatch.setenv("VOICECOACH_CACHE", str(tmp_path / "cache"))
    for name, value in HOSTILE_ENV.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_the_harness_covers_every_command_but_serve_and_the_players(tmp_path):
    covered = set()
    for args in invocations(tmp_path):
        covered.add(tuple(args[:2]) if args[0] in ("log", "cache", "pack") else (args[0],))
    assert _leaves(cli) - covered == {(name,) for name in EXCLUDED}


_RECORD: dict[str, str | None] = {"file": None}


def _audit(event: str, args) -> None:
    target = _RECORD["file"]
    if target is not None and event.startswith("socket."):
        # Appending, so that forked speech workers (which inherit this hook) record into the same file.
        with open(target, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {event} {args!r:.200}\n")


sys.addaudithook(_audit)    # hooks cannot be removed; this one records only while a test asks it to


def test_no_python_socket_in_any_command(workdir):
    record = workdir / "sockets.txt"
    record.touch()
    for args in invocations(workdir):
        _RECORD["file"] = str(record)
        try:
            result = CliRunner().invoke(cli, args)
        finally:
            _RECORD["file"] = None
        assert result.exit_code == 0, (args, result.output)
        assert record.read_text(encoding="utf-8") == "", f"voicecoach {' '.join(args)} opened a socket"


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    try:
        return subprocess.run(["strace", "-f", "-o", os.devnull, "true"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


STRACE = _strace_works()
# tools/setup.sh installs strace; a container that forbids tracing (no ptrace) is the one reason to skip.
needs_strace = pytest.mark.skipif(not STRACE, reason="strace cannot trace here")


def _network_calls(args: list[str], env: dict, trace: Path, python: tuple = ("-m", "voicecoach.cli")) -> list[str]:
    command = ["strace", "-f", "-qq", "-e", "trace=%network", "-o", str(trace), sys.executable, *python]
    done = subprocess.run(command + args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (args, done.stderr[-2000:])
    lines = trace.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if "(" in line and "--- SIG" not in line]


@needs_strace
@pytest.mark.slow
def test_no_socket_of_any_family_in_any_command_under_strace(workdir):
    env = {**os.environ, **HOSTILE_ENV}
    for args in invocations(workdir):
        calls = _network_calls(args, env, workdir / "trace.txt")
        assert calls == [], f"voicecoach {' '.join(args)}: {calls[:3]}"


@needs_strace
def test_espeak_ng_does_not_probe_the_sound_server(workdir):
    # espeak-ng 1.51 opens its audio device (PulseAudio first) on start-up, whatever the output mode.
    from voicecoach.speech.engines import pyttsx3 as engine
    assert engine.ENGINE.installed(), "espeak-ng is part of the set-up (tools/setup.sh)"
    env = {**os.environ, **HOSTILE_ENV}
    calls = _network_calls(["show", str(workdir / "quiet.yaml")], env, workdir / "trace.txt")
    assert calls == []


@needs_strace
@pytest.mark.slow
def test_piper_sends_no_telemetry(workdir):
    # onnxruntime's telemetry client looks up its host about 9 s after import (measured), so the
    # process lives on for 12 s after the voice is loaded.
    from voicecoach.speech.engines import piper
    assert piper.ENGINE.installed(), "piper is part of the set-up (tools/setup.sh installs voicecoach[piper])"
    code = ("import time; from voicecoach.speech.engines.piper import ENGINE; "
            "from voicecoach.speech.voice import Voice; ENGINE.warm_up(Voice('piper', None)); time.sleep(12)")
    calls = _network_calls([], dict(os.environ), workdir / "trace.txt", python=("-c", code))
    assert calls == []
