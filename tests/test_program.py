"""Program files: the graded path through the scripts, loaded and validated like scripts are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.catalogue import measured_stages
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.document import Document
from voicecoach.exercise.program import is_program, load_program, per_week

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "scripts" / "program.yaml"

TINY = """
voicecoach: 1
title: Tiny $size
params: {size: 1}
steps:
  - section: Only
  - say: Size $size, when you feel ready.
"""


def write_program(write_script, body: str):
    write_script(TINY, "tiny.yaml")
    return write_script(body, "program.yaml")


def stage_kinds(program) -> list[str]:
    return [s.script.stem for s in program.stages]


def test_the_program_loads_in_the_leaflets_order():
    program = load_program(PROGRAM)
    kinds = stage_kinds(program)
    assert kinds[0] == "pelvic-floor-release"
    first_trainer = kinds.index("trainer")
    assert kinds.index("daily-familiarisation") < first_trainer
    last_trainer = len(kinds) - 1 - kinds[::-1].index("trainer")
    assert kinds[first_trainer: last_trainer + 1] == ["trainer"] * (last_trainer - first_trainer + 1)
    assert last_trainer < kinds.index("with-a-partner") < kinds.index("containment") == len(kinds) - 1


def test_trainer_sizes_increase():
    sizes = [s.set["size"] for s in load_program(PROGRAM).stages if s.script.stem == "trainer"]
    assert len(sizes) >= 3 and sizes[0] == 1
    assert all(a < b for a, b in zip(sizes, sizes[1:]))


def test_every_stage_asks_for_at_least_three_times_a_week():
    for stage in load_program(PROGRAM).stages:
        assert stage.per_week >= 3, stage.frequency
        assert re.search(r"\b(3|three) times a week\b|\bevery day\b", stage.frequency)


def test_trainer_stages_move_on_when_confident_and_comfortable_and_keep_the_pause():
    for stage in load_program(PROGRAM).stages:
        if stage.script.stem == "trainer":
            assert "confident" in stage.move_on_when and "comfortable" in stage.move_on_when
            assert stage.note and "pause" in stage.note and "penetrat" in stage.note
        assert stage.move_on_when


@pytest.mark.slow
@pytest.mark.parametrize("rate", [None, 120], ids=["default-rate", "rate-120"])
def test_every_stage_renders_with_its_settings(shared_cache, rate):
    program = load_program(PROGRAM)
    stages = measured_stages(program, shared_cache, rate=rate)
    assert [s.number for s in stages] == list(range(1, len(program.stages) + 1))
    assert all(s.length > 60_000 for s in stages)
    sized = [s for s in stages if s.stage.script.stem == "trainer"]
    assert [s.title for s in sized] == [f"Trainer session, size {s.stage.set['size']}" for s in sized]


@pytest.mark.parametrize("text, expected", [
    ("most days, at least 3 times a week", 3),
    ("every day if you can, at least three times a week", 3),
    ("every day", 7),
    ("daily", 7),
    ("twice a week", 2),
    ("once a day", 7),
    ("5 times per week", 5),
    ("whenever it suits you", None),
])
def test_per_week(text, expected):
    assert per_week(text) == expected


def test_a_program_is_not_a_script(write_script):
    assert not is_program(Document.load(write_script(TINY)))
    assert is_program(Document.load(PROGRAM))


def test_stage_settings_reach_the_script(write_script):
    path = write_program(write_script, """
        voicecoach: 1
        title: Two steps
        stages:
          - stage: First
            script: tiny.yaml
            set: {size: 1}
            move_on_when: It feels ordinary.
            frequency: 4
          - stage: Second
            script: tiny
            set: {size: 2}
            move_on_when: It feels ordinary.
            frequency: every day
    """)
    program = load_program(path)
    assert [s.name for s in program.stages] == ["First", "Second"]
    assert [s.label() for s in program.stages] == ["tiny.yaml --set size=1", "tiny.yaml --set size=2"]
    assert [s.frequency for s in program.stages] == ["4 times a week", "every day"]
    assert [s.per_week for s in program.stages] == [4, 7]


STAGE = """
voicecoach: 1
title: Broken
stages:
  - stage: Only
    script: tiny.yaml
    move_on_when: It feels ordinary.
    frequency: most days, at least 3 times a week
"""


@pytest.mark.parametrize("change, line, message", [
    (("script: tiny.yaml", "script: nowhere.yaml"), 5, "no script 'nowhere.yaml'"),
    (("frequency: most days, at least 3 times a week", "frequency: now and then"), 7, "does not say how often"),
    (("    move_on_when: It feels ordinary.\n", ""), 4, "needs `move_on_when:`"),
    (("    frequency:", "    often: yes\n    frequency:"), 7, "no setting `often`"),
    (("script: tiny.yaml", "script: tiny.yaml\n    set: {colour: blue}"), 6, "no parameter `colour`"),
    (("voicecoach: 1", "voicecoach: 2"), 1, "version 2 is not known"),
    (("title: Broken", "name: Broken"), 2, "unknown key `name`"),
    ((STAGE[STAGE.index("stages:"):], "stages: []\n"), 3, "stages is empty"),
])
def test_errors_name_file_and_line(write_script, change, line, message):
    path = write_program(write_script, STAGE.replace(*change))
    with pytest.raises(VoicecoachError) as caught:
        load_program(path)
    text = str(caught.value)
    assert text.startswith(f"{path}:{line}:"), text
    assert message in text


@pytest.mark.parametrize("where", ["absolute", "parent", "symlink"])
@pytest.mark.parametrize("key", ["script", "alongside"])
def test_a_stage_naming_a_file_outside_the_program_and_library_quotes_nothing_of_it(write_script, tmp_path, where, key):
    # A program handed to a user could name a private file; its errors quoted that file's keys and lines.
    private = tmp_path.parent / f"{tmp_path.name}-private.yaml"
    private.write_text("voicecoach: 1\ntitle: x\nSECRET-KEY-LINE: 1\nsteps: [{say: hi}]\n", encoding="utf-8")
    name = {"absolute": str(private), "parent": f"../{private.name}", "symlink": "link.yaml"}[where]
    if where == "symlink":
        (tmp_path / "link.yaml").symlink_to(private)
    script, alongside = (name, "[]") if key == "script" else ("tiny", f"[{name}]")
    path = write_program(write_script, f"""
        voicecoach: 1
        title: P
        stages:
          - stage: One
            script: {script}
            alongside: {alongside}
            move_on_when: ok
            frequency: every day
        """)
    with pytest.raises(VoicecoachError) as e:
        load_program(path)
    assert "SECRET" not in str(e.value)
    assert "outside the program's folder and the library" in str(e.value) and "program.yaml:" in str(e.value)
