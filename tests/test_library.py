"""The library: scripts and programs in a folder, as `voicecoach list` and `voicecoach show` present them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.catalogue import catalogue, open_program, programs
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.library import find
from voicecoach.exercise.program import load_program
from voicecoach.session import prepare

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"

TINY = """
voicecoach: 1
title: Tiny $size
about: A tiny session. About 1 minute.
params: {size: 1}
steps:
  - section: Only
  - say: Size $size, when you feel ready.
  - pause: 2
"""

PROGRAM = """
voicecoach: 1
title: Small steps
stages:
  - stage: Smaller
    script: tiny.yaml
    set: {size: 1}
    move_on_when: It feels ordinary.
    frequency: most days, at least 3 times a week
  - stage: Larger
    script: tiny.yaml
    set: {size: 2}
    move_on_when: It feels ordinary.
    frequency: every day
"""


def run(*args, cache):
    return CliRunner().invoke(cli, ["--cache-dir", str(cache.root), *map(str, args)])


@pytest.fixture
def folder(write_script, tmp_path):
    write_script(TINY, "tiny.yaml")
    write_script(PROGRAM, "program.yaml")
    write_script("voicecoach: 1\ntitle: Broken\nsteps: nope\n", "broken.yaml")
    return tmp_path


def test_a_program_is_listed_as_a_program_not_a_broken_script(folder, cache):
    entries = {e.path.name: e for e in catalogue(folder, cache)}
    assert set(entries) == {"tiny.yaml", "broken.yaml"}
    assert entries["tiny.yaml"].error is None and entries["broken.yaml"].error
    [found] = programs(folder, cache)
    assert found.error is None and found.program.title == "Small steps"
    assert [(s.number, s.stage.name, s.title) for s in found.stages] == [(1, "Smaller", "Tiny 1"), (2, "Larger", "Tiny 2")]
    # Nothing is rendered to list them: until its phrases are in the cache, a stage's length is an estimate ...
    assert all(s.estimated for s in found.stages)
    real = [prepare(folder / "tiny.yaml", cache, overrides={"size": n}).timeline.length for n in (1, 2)]
    # ... and then it is the real one of its script with the stage's settings.
    [found] = programs(folder, cache)
    assert [s.length for s in found.stages] == real and not any(s.estimated for s in found.stages)


def test_a_broken_program_carries_its_error(folder, cache, write_script):
    write_script(PROGRAM.replace("frequency: every day", "frequency: sometimes"), "program.yaml")
    [found] = programs(folder, cache)
    assert found.program is None and "program.yaml:13:" in found.error
    assert "program.yaml" not in {e.path.name for e in catalogue(folder, cache)}


def test_open_program_is_none_for_a_script(folder, cache):
    assert open_program(folder / "tiny.yaml", cache) is None
    assert open_program(folder / "program.yaml", cache).program.title == "Small steps"


def test_find_by_name_or_path(folder, monkeypatch):
    assert find("program", folder) == folder / "program.yaml"
    assert find("tiny.yaml", folder) == folder / "tiny.yaml"
    assert find(str(folder / "tiny.yaml"), Path("/nowhere")) == folder / "tiny.yaml"
    assert find("nothing", folder) == Path("nothing")
    monkeypatch.chdir(folder)
    assert find("tiny.yaml", Path("/nowhere")) == Path("tiny.yaml")   # a file here wins over the library


@pytest.mark.slow
def test_the_real_library(shared_cache):
    entries = catalogue(SCRIPTS, shared_cache)
    assert len(entries) >= 11 and not [e for e in entries if e.error]
    assert "program.yaml" not in {e.path.name for e in entries}
    [found] = programs(SCRIPTS, shared_cache)
    assert [s.stage.name for s in found.stages] == [s.name for s in load_program(SCRIPTS / "program.yaml").stages]


@pytest.mark.slow
def test_list_shows_scripts_then_the_stages_in_order(folder, cache):
    result = run("list", "--dir", folder, cache=cache)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Tiny 1" in out and "broken.yaml" in out and "cannot be read" in out
    assert "program.yaml" not in out.split("Program:")[0]   # not among the scripts, broken or not
    assert "Program: Small steps" in out
    length = r"(?:\d+:\d\d|about \d+ min|under 1 min)"     # an estimate until its phrases are rendered
    smaller = re.search(rf"^\s*1\. Smaller\s+{length}\s+tiny\.yaml --set size=1$", out, re.M)
    larger = re.search(rf"^\s*2\. Larger\s+{length}\s+tiny\.yaml --set size=2$", out, re.M)
    assert smaller and larger and smaller.start() < larger.start()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["program", "scripts/program.yaml"])
def test_show_program_lists_stages_with_lengths(shared_cache, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("show", name, cache=shared_cache)
    assert result.exit_code == 0, result.output
    program = load_program(SCRIPTS / "program.yaml")
    positions = []
    for number, stage in enumerate(program.stages, 1):
        found = re.search(rf"^\s*{number}\. {re.escape(stage.name)}\s+(?:(\d+):(\d\d)|about (\d+) min)\s+"
                          rf"{re.escape(stage.label())}$", result.output, re.M)
        assert found, f"stage {number} missing from:\n{result.output}"
        seconds = int(found.group(1)) * 60 + int(found.group(2)) if found.group(1) else int(found.group(3)) * 60
        assert seconds > 60
        positions.append(found.start())
    assert positions == sorted(positions)
    assert "How often:" in result.output and "Move on when:" in result.output


@pytest.mark.slow
def test_show_program_json_and_refusing_set(folder, cache):
    result = run("show", folder / "program.yaml", "--json", cache=cache)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(s["stage"], s["set"], s["per_week"]) for s in data["stages"]] == [("Smaller", {"size": 1}, 3), ("Larger", {"size": 2}, 7)]
    assert all(s["length"] > 0 for s in data["stages"])
    refused = run("show", folder / "program.yaml", "--set", "size=2", cache=cache)
    assert refused.exit_code != 0 and refused.output.startswith("Error: ") and len(refused.output.splitlines()) == 1


@pytest.mark.slow
def test_show_a_script_by_name(shared_cache, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("show", "trainer", "--set", "size=2", cache=shared_cache)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Trainer session, size 2 — ")


def test_catalogue_of_a_missing_folder(tmp_path, cache):
    with pytest.raises(VoicecoachError):
        catalogue(tmp_path / "none", cache)
