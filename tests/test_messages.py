"""Finding 8 of the second hardening round: a full disk is named as such (with its device), never as a
damaged log; our own errors from a speech worker are not wrapped as an engine failure."""

from __future__ import annotations

import errno
import os
import sqlite3

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.files import mount_point, written
from voicecoach.practice import log
from voicecoach.speech.engines import registered
from voicecoach.speech.pool import engine_error


def test_a_full_disk_while_writing_names_the_device(tmp_path):
    with pytest.raises(VoicecoachError) as found, written(tmp_path / "x.mp3"):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert f"no space left on {mount_point(tmp_path)}" in str(found.value)


def test_a_full_disk_is_not_reported_as_a_damaged_log(private_log, monkeypatch):
    real = sqlite3.connect

    def full(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.close()
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(sqlite3, "connect", full)
    monkeypatch.setattr(log, "disk_full", lambda path: True)
    result = CliRunner().invoke(cli, ["log", "list"])
    assert result.exit_code != 0 and "no space left on" in result.output, result.output
    assert "cannot be read as a practice log" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_our_own_error_from_a_worker_is_not_an_engine_failure():
    message = engine_error("VoicecoachError: /c/x: could not be written: no space left on /c", registered()[0])
    assert str(message) == "/c/x: could not be written: no space left on /c"


def test_mount_point_of_a_missing_file_is_its_file_systems():
    assert os.path.ismount(mount_point("/nonexistent/deeper/file"))


def test_a_name_with_a_newline_or_an_escape_is_shown_on_one_line(tmp_path):
    from click.testing import CliRunner

    from voicecoach.cli import cli
    odd = tmp_path / "two\nlines\x1b[31m.yaml"
    odd.write_text("voicecoach: 1\ntitle: T\nsteps:\n  - sai: hello\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["show", str(odd)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "two\\nlines\\x1b[31m.yaml" in lines[0], lines
    assert "\x1b" not in result.output


def test_a_long_value_is_quoted_short_in_any_error(write_script):
    from click.testing import CliRunner

    from voicecoach.cli import cli
    path = write_script("voicecoach: 1\ntitle: T\nsteps:\n  - say: hello\n")
    result = CliRunner().invoke(cli, ["show", str(path), "--voice", "x" * 5000])
    assert result.exit_code == 1 and len(result.output) < 400, result.output


def test_a_voice_the_script_names_wrongly_is_shown_at_its_line(write_script):
    from click.testing import CliRunner

    from voicecoach.cli import cli
    path = write_script("voicecoach: 1\ntitle: T\n\nvoice:\n  rate: 130\n  name: festival:nobody\nsteps:\n  - say: hello\n")
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 1 and f"{path}:6: voice.name:" in result.output, result.output
