"""Findings 4-6 of the second hardening round: only regular files are read, names too long for the file
system are one line, and a breath pattern's limits hold before any audio is made."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli

SCRIPT = "voicecoach: 1\ntitle: t\nsteps:\n  - say: Hello.\n"


def one_line(result) -> str:
    assert result.exit_code != 0 and (result.exception is None or isinstance(result.exception, SystemExit)), \
        result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_a_fifo_is_refused_at_once_alone_and_in_a_folder(tmp_path):
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)          # nobody ever writes to it: reading would wait forever
    assert "not a regular file" in one_line(CliRunner().invoke(cli, ["show", str(fifo)]))
    (tmp_path / "ok.yaml").write_text(SCRIPT, encoding="utf-8")
    listed = CliRunner().invoke(cli, ["list", "--dir", str(tmp_path)])
    assert listed.exit_code == 0 and "not a regular file" in listed.output and "ok.yaml" in listed.output


def test_a_device_is_refused():
    assert "not a regular file" in one_line(CliRunner().invoke(cli, ["show", os.devnull]))


@pytest.mark.parametrize("args", [
    ["show", "{long}.yaml"], ["export", "{long}.yaml", "-o", "{tmp}/x.mp3"], ["export", "{script}", "-o", "{long}.mp3"],
    ["render", "{long}.yaml", "-o", "{tmp}/x.wav"], ["render", "{script}", "-o", "{long}.wav"],
    ["log", "session", "{long}"],
])
def test_a_name_too_long_for_the_file_system_is_one_line(args, tmp_path):
    script = tmp_path / "ok.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    names = {"long": str(tmp_path / ("y" * 300)), "tmp": str(tmp_path), "script": str(script)}
    message = one_line(CliRunner().invoke(cli, [a.format(**names) for a in args]))
    assert "too long" in message


@pytest.mark.parametrize("pattern, says", [
    ("9" * 400 + "-1", "longest allowed"), ("7200-5", "longest allowed"), ("0-0", "takes no time"),
])
def test_a_breath_pattern_keeps_the_limits_of_the_mapping_form(pattern, says, write_script):
    path = write_script(f'voicecoach: 1\ntitle: t\nsteps:\n  - breathe: "{pattern}"\n')
    message = one_line(CliRunner().invoke(cli, ["show", str(path)]))
    assert says in message and f"{path}:4:" in message and len(message) < 300


def test_a_long_name_is_quoted_short(tmp_path):
    script = tmp_path / "ok.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    long = str(tmp_path / ("y" * 300))
    for args in (["export", long + ".yaml", "-o", str(tmp_path / "x.mp3")], ["render", long + ".yaml", "-o",
                 str(tmp_path / "x.wav")], ["export", str(script), "-o", long + ".mp3"], ["log", "session", long]):
        message = one_line(CliRunner().invoke(cli, args))
        assert "y" * 100 not in message and len(message) < 250, message


@pytest.mark.parametrize("step, says", [
    ("squeeze: {hold: 60m, rest: 1, count: true}", "holds of up to 60 seconds"),
    ("squeeze: {hold: 59, rest: 59, reps: 10000, count: true}", "longer than"),
    ("say: \"\\u200b\\u200c\\u200d\\u2060\"", "only invisible characters"),
])
def test_every_limit_is_checked_before_any_audio_is_made(step, says, write_script, monkeypatch):
    # Finding 6: a counted 60-minute hold synthesised 3,599 numbers before the timing check refused it.
    from voicecoach import session

    def no_audio(*args, **kwargs):
        raise AssertionError("audio was made before the limits were checked")
    monkeypatch.setattr(session, "gather", no_audio)
    path = write_script(f"voicecoach: 1\ntitle: t\nsteps:\n  - {step}\n")
    for command in (["show", str(path)], ["export", str(path), "-o", str(path.with_suffix(".mp3"))]):
        message = one_line(CliRunner().invoke(cli, command))
        assert says in message and f"{path}:" in message, message
    assert not path.with_suffix(".mp3").exists()


@pytest.mark.parametrize("version", ["true", "1.0", "'1'", "2", "yes"])
def test_the_format_version_is_the_integer_1(version, write_script):
    path = write_script(f"voicecoach: {version}\ntitle: t\nsteps:\n  - say: Hello.\n")
    message = one_line(CliRunner().invoke(cli, ["show", str(path)]))
    assert "format version" in message and f"{path}:1:" in message
