"""The user's config.yaml: a mistake in it is said once, naming the file and line; doctor shows the voice it sets."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.config import UserConfig, checked_config
from voicecoach.errors import VoicecoachError

MISTAKES = [
    ("voice: flite:nobody\n", 1, "voice: flite has no voice 'nobody'"),
    ("# mine\nvoise: flite:slt\n", 2, "`voise` is not a setting"),
    ("voice: flite:slt\nrate: [\n", 3, "never closed"),
    ("rate: 1000\n", 1, "rate must be words per minute, 60 to 400, not 1000"),
    ("voice: flite:slt\nrate: fast\n", 2, "rate must be words per minute, 60 to 400, not 'fast'"),
]


@pytest.fixture
def config(tmp_path, monkeypatch):
    """write(text) -> the config file VOICECOACH_CONFIG points at."""
    path = tmp_path / "my config.yaml"
    monkeypatch.setenv("VOICECOACH_CONFIG", str(path))

    def write(text: str):
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.mark.parametrize("text, line, words", MISTAKES, ids=[m[2] for m in MISTAKES])
@pytest.mark.parametrize("command", [["list"], ["show", "program"],
                                     ["export", "program", "-d", "out"], ["play", "belly-breathing"], ["today"]],
                         ids=" ".join)
def test_a_mistake_in_the_config_is_one_line_naming_it_for_every_command_that_speaks(config, tmp_path, monkeypatch,
                                                                                   text, line, words, command):
    path = config(text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and result.output.count(str(path)) == 1, result.output
    assert result.output.startswith(f"Error: {path}:{line}: ") and words in result.output
    assert "correct your config file, or remove it" in result.output
    assert not (tmp_path / "out").exists()


def test_voices_lists_the_voices_to_correct_a_config_that_names_none_of_them(config):
    path = config("voice: nosuch:thing\n")
    result = CliRunner().invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "piper:joe" in text or "espeak:" in text
    assert f"Your config file cannot be used: {path}:1: voice:" in text and "choose one of the voices above" in text


def test_help_and_the_log_work_whatever_the_config_says(config):
    config("voice: flite:nobody\n")
    for command in (["list", "--help"], ["play", "-h"], ["log", "list"], ["help", "export"], ["--version"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0 and "nobody" not in result.output, (command, result.output)


def test_the_command_line_voice_is_checked_as_before_and_a_good_config_is_used(config, write_script):
    config("voice: flite:slt\nrate: 150\n")
    script = write_script("voicecoach: 1\ntitle: T\nsteps:\n  - say: Hello.\n")
    shown = CliRunner().invoke(cli, ["show", str(script), "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"engine": "flite"' in shown.output and '"rate": 150' in shown.output


def test_checked_config_looks_the_voice_up(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("rate: 120\n\nvoice: flite:nobody\n", encoding="utf-8")
    with pytest.raises(VoicecoachError, match=r"config\.yaml:3: voice: flite has no voice 'nobody'"):
        checked_config(path)
    path.write_text("voice: flite:slt\n", encoding="utf-8")
    assert checked_config(path) == UserConfig(path, "flite:slt", 1, None)
    assert checked_config(tmp_path / "none.yaml") == UserConfig()


def test_doctor_shows_the_default_voice_the_config_sets_and_where(config, tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CONFIG", str(tmp_path / "none.yaml"))
    plain = " ".join(CliRunner().invoke(cli, ["doctor"]).output.split())      # its lines wrap at 80 columns
    assert "the most natural installed voice" in plain and f"`voice:` in {tmp_path / 'none.yaml'}" in plain
    path = config("# my choice\nvoice: flite:slt\nrate: 130\n")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(path))
    chosen = CliRunner().invoke(cli, ["doctor"]).output
    lines = chosen.splitlines()
    at = next(i for i, line in enumerate(lines) if "default voice" in line)
    # The check's detail, wrapped under its column.
    wrapped = [lines[at]] + [line for line in lines[at + 1:] if line.startswith(" " * 23)][:3]
    assert " ".join(" ".join(wrapped).split()[3:]).startswith(f"flite:slt, from your config file ({path}, line 2)")
    assert "rate: 130 words a minute" in chosen
    config("voice: flite:nobody\n")
    broken = CliRunner().invoke(cli, ["doctor"])
    assert broken.exit_code == 1 and "!!  config file" in broken.output
    flat = " ".join(broken.output.split())
    assert "your config file cannot be used" in flat
    assert flat.count("flite has no voice 'nobody'") == 1
