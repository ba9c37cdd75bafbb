"""The command line, through click's CliRunner: thin commands over the library."""

import json
import wave

import pytest
from click.testing import CliRunner

from voicecoach import __version__
from voicecoach.cli import cli

SCRIPT = """
voicecoach: 1
title: Tiny
about: A tiny test session.
params: {hold: 3}
steps:
  - section: Only
  - say: Hello.
  - squeeze: {hold: $hold, rest: 2}
"""


def run(*args, cache):
    return CliRunner().invoke(cli, ["--cache-dir", str(cache.root), *map(str, args)])


def test_version_and_help():
    assert CliRunner().invoke(cli, ["--version"]).output.strip() == f"voicecoach, version {__version__}"
    out = CliRunner().invoke(cli, ["--help"]).output
    for command in ("list", "show", "export", "play", "voices"):
        assert command in out


@pytest.mark.slow
def test_show_json_follows_set_and_rate(write_script, cache):
    path = write_script(SCRIPT)
    result = run("show", path, "--json", "--set", "hold=6", "--rate", "170", cache=cache)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    cues = {c["role"]: c for c in data["cues"]}
    assert cues["release"]["start"] - cues["tighten"]["start"] == pytest.approx(6.0)
    assert data["voice"]["rate"] == 170
    assert data["sections"] == [{"name": "Only", "start": 0.0, "line": 6}]
    assert data["length"] == pytest.approx(cues["tighten"]["start"] + 8.0)


@pytest.mark.slow
def test_show_text(write_script, cache):
    result = run("show", write_script(SCRIPT), cache=cache)
    assert result.exit_code == 0
    assert "== Only ==" in result.output and "tighten  Tighten" in result.output


@pytest.mark.slow
def test_export_wav_then_again_from_the_cache(write_script, cache, tmp_path):
    path, out = write_script(SCRIPT), tmp_path / "tiny.wav"
    first = run("export", path, "-o", out, cache=cache)
    assert first.exit_code == 0, first.output
    assert "synthesised" in first.output and str(out) in first.output
    with wave.open(str(out)) as w:
        assert w.getframerate() == 24000 and w.getnframes() > 24000 * 5
    again = run("export", path, "-o", out, cache=cache)
    assert "all phrases from the cache" in again.output


@pytest.mark.parametrize("target, message", [("x.ogg2", "unknown audio format"),
                                             ("missing-dir/x.wav", "does not exist")])
def test_export_refuses_bad_targets_before_rendering(write_script, cache, tmp_path, target, message):
    result = run("export", write_script(SCRIPT), "-o", tmp_path / target, cache=cache)
    assert result.exit_code == 1 and message in result.output
    assert not cache.root.exists()          # nothing was rendered


@pytest.mark.slow
def test_export_to_a_folder_that_refuses_files(write_script, cache):
    # /proc accepts no new files even for root: the error comes at write time, after rendering.
    result = run("export", write_script(SCRIPT), "-o", "/proc/voicecoach-test.wav", cache=cache)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: /proc/voicecoach-test.wav: ") and len(result.output.splitlines()) == 1


@pytest.mark.slow
def test_list_shows_titles_and_lengths(write_script, cache, tmp_path):
    write_script(SCRIPT, "a.yaml")
    write_script("voicecoach: 1\ntitle: Broken\nsteps: nope\n", "b.yaml")
    result = run("list", "--dir", tmp_path, cache=cache)
    assert result.exit_code == 0, result.output
    assert "Tiny" in result.output and "A tiny test session." in result.output
    assert "b.yaml" in result.output and "cannot be read" in result.output


@pytest.mark.slow
def test_voices(cache):
    result = run("voices", cache=cache)
    assert result.exit_code == 0 and "gmw/en-us" in result.output


@pytest.mark.slow
def test_unknown_voice_is_one_line(write_script, cache):
    result = run("show", write_script(SCRIPT), "--voice", "nobody", cache=cache)
    assert result.exit_code == 1
    assert result.output.startswith("Error: there is no voice 'nobody'") and len(result.output.splitlines()) == 1
