"""Loading scripts: what is accepted, and a table of malformed scripts that must fail kindly."""

import re
from fractions import Fraction

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.script import Breathe, Pause, Repeat, Say, Squeeze, load_script, parse_duration

HEAD = "voicecoach: 1\ntitle: Test\n"


def test_a_full_script_loads_with_params_and_overrides(write_script):
    path = write_script("""
        voicecoach: 1
        title: Release, size $size
        about: A short test.
        params: {hold: 5, rest: "10s", size: 1}
        voice: {rate: 150, volume: 0.8}
        steps:
          - say: Size ${size} today. It costs $$0.
          - pause: 2m
          - squeeze: {hold: $hold, rest: $rest, reps: 3, count: yes, tighten: Squeeze}
          - breathe: {in: 4, out: 6, cycles: 2, cues: {in: In}}
          - repeat: 2
            steps: [{say: Again.}, {pause: 1500ms}]
        """)
    s = load_script(path, ["size=3", "hold=8"])
    assert s.title == "Release, size 3"
    assert s.voice.rate == 150 and s.voice.volume == 0.8
    say, pause, squeeze, breathe, repeat = s.steps
    assert say == Say("Size 3 today. It costs $0.", 7)
    assert pause == Pause(120_000, 8)
    assert squeeze == Squeeze(8000, 10_000, 3, "Squeeze", "And let go", True, 9)
    assert isinstance(breathe, Breathe) and breathe.cues["in"] == "In" and breathe.cues["out"] == "And out"
    assert isinstance(repeat, Repeat) and repeat.times == 2 and repeat.steps[1] == Pause(1500, 12)


@pytest.mark.parametrize("text, seconds", [(3, 3), (0.25, 0.25), ("3s", 3), ("2m", 120), ("1m30s", 90),
                                           ("500ms", 0.5), ("1.5 min", 90), ("1h", 3600), (0.1, "0.1"),
                                           (1.0005, "1.0005"), (0.3333, "0.3333")])
def test_durations(text, seconds):
    # A number is read as written (0.1 is a tenth, not the float nearest it).
    assert parse_duration(text) == (Fraction(seconds) if isinstance(seconds, str) else seconds)


# (name, script text after the version/title lines, expected line, a word the message must hold)
MALFORMED = [
    ("yaml syntax", "steps:\n  - say: [unclosed\n", 5, "YAML"),
    ("tab indentation", "steps:\n\t- say: hi\n", 4, "YAML"),
    ("unknown step", "steps:\n  - sing: la la\n", 4, "unknown step"),
    ("unknown top key", "colour: blue\nsteps:\n  - say: hi\n", 3, "colour"),
    ("unknown squeeze key", "steps:\n  - squeeze: {hold: 5, rest: 5, hodl: 3}\n", 4, "hodl"),
    ("pause not a duration", "steps:\n  - pause: soon\n", 4, "seconds"),
    ("zero pause", "steps:\n  - pause: 0\n", 4, "positive"),
    ("pause finer than a millisecond", "steps:\n  - say: hi\n  - pause: 1.5ms\n", 5, "write 1ms or 2ms"),
    ("hold finer than a millisecond", "steps:\n  - squeeze: {hold: 2.0005s, rest: 5}\n", 4, "write 2s or 2.001s"),
    ("number finer than a millisecond", "steps:\n  - pause: 1.0005\n", 4, "write 1 or 1.001"),
    ("pause under a millisecond", "steps:\n  - pause: 0.0001s\n", 4, "write 0.001s"),
    ("breath finer than a millisecond", "steps:\n  - breathe: \"4.0005-6\"\n", 4, "write 4 or 4.001"),
    ("pattern finer than a millisecond", "steps:\n  - breathe: {pattern: \"4-6.0005\"}\n", 4, "write 6 or 6.001"),
    ("tiny negative hold", "steps:\n  - breathe: {in: 4, out: 6, hold: -0.0004}\n", 4, "zero or more"),
    ("a few digits over the limit", "steps:\n  - pause: 3600.0005\n", 4, "is 60 minutes 0.001 seconds; the longest"),
    ("a number no one can read", "steps:\n  - pause: \"1" + "0" * 400 + ".5s\"\n", 4, "more than 100 days"),
    ("negative hold", "steps:\n  - say: hi\n  - squeeze: {hold: -5, rest: 5}\n", 5, "squeeze.hold"),
    ("absurd pause", "steps:\n  - pause: 999999\n", 4, "longest"),
    ("unknown param", "params: {hold: 5}\nsteps:\n  - squeeze: {hold: $hld, rest: 5}\n", 5, "$hld"),
    ("zero reps", "steps:\n  - squeeze: {hold: 5, rest: 5, reps: 0}\n", 4, "reps"),
    ("fractional reps", "steps:\n  - squeeze: {hold: 5, rest: 5, reps: 2.5}\n", 4, "whole number"),
    ("steps not a list", "steps: breathe slowly\n", 3, "list"),
    ("empty steps", "steps: []\n", 3, "empty"),
    ("repeat without steps", "steps:\n  - repeat: 2\n", 4, "steps"),
    ("two kinds in one step", "steps:\n  - say: hi\n    pause: 1\n", 4, "one kind"),
    ("step is plain text", "steps:\n  - hello\n", 4, "kind: value"),
    ("empty say", "steps:\n  - say: \"\"\n", 4, "empty"),
    ("duplicate key", "steps:\n  - squeeze: {hold: 5, hold: 6, rest: 5}\n", 4, "twice"),
    ("breathe without out", "steps:\n  - breathe: {in: 4}\n", 4, "out"),
    ("unknown breath pattern", "steps:\n  - breathe: square\n", 4, "pattern"),
    ("missing rest", "steps:\n  - squeeze: {hold: 5}\n", 4, "rest"),
    ("count not a flag", "steps:\n  - squeeze: {hold: 5, rest: 5, count: maybe}\n", 4, "true or false"),
    ("volume out of range", "voice: {volume: 7}\nsteps:\n  - say: hi\n", 3, "volume"),
    ("rate not a number", "voice: {rate: fast}\nsteps:\n  - say: hi\n", 3, "rate"),
    ("cue longer than hold", "steps:\n  - squeeze: {hold: 0.1, rest: 5}\n", 4, "lengthen"),
    ("cue longer than breath", "steps:\n  - breathe: {in: 0.2, out: 4}\n", 4, "breathe.in"),
    ("param is a list", "params: {hold: [1, 2]}\nsteps:\n  - say: hi\n", 3, "params.hold"),
    ("too many repeats", "steps:\n  - repeat: 1000000000\n    steps: [{say: hi}]\n", 4, "most allowed"),
    ("session over 12 hours", "steps:\n  - repeat: 5000\n    steps: [{pause: 30m}]\n", 4, "12 hours"),
    ("control characters", "steps:\n  - say: \"hi\\x07there\"\n", 4, "control"),
]


@pytest.mark.slow
@pytest.mark.parametrize("name, body, line, word", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_scripts_get_one_line_naming_file_and_line(tmp_path, name, body, line, word):
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    out = tmp_path / "out.wav"
    result = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "cache"), "export", str(path), "-o", str(out)])
    assert result.exit_code == 1, result.output
    message = result.output.strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert message.startswith(f"Error: {path}:{line}: "), message
    assert word in message
    assert not out.exists() and not list(tmp_path.glob(".out.wav*"))


@pytest.mark.parametrize("content, line, word", [
    (b"voicecoach: 1\ntitle: Caf\xe9\n", 2, "UTF-8"),
    (b"", 1, "empty"),
    (b"- a list\n- of things\n", 1, "mapping"),
    (b"title: No version\nsteps: [{say: hi}]\n", 1, "voicecoach: 1"),
    (b"voicecoach: 2\ntitle: Future\nsteps: [{say: hi}]\n", 1, "version"),
    (b"voicecoach: 1\ntitle: a\n---\nvoicecoach: 1\n", 3, "more than one"),
])
def test_malformed_files(tmp_path, content, line, word):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(VoicecoachError) as e:
        load_script(path)
    assert str(e.value).startswith(f"{path}:{line}: ") and word in str(e.value)


@pytest.mark.parametrize("sets, word", [(["hold"], "name=value"), (["=3"], "name=value"),
                                        (["colour=blue"], "no parameter `colour`")])
def test_bad_set_names_the_file(write_script, sets, word):
    path = write_script(HEAD + "params: {hold: 5}\nsteps: [{say: hi}]\n")
    with pytest.raises(VoicecoachError) as e:
        load_script(path, sets)
    assert str(e.value).startswith(f"{path}:3: ") and word in str(e.value)


def test_a_missing_file_is_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["show", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert re.fullmatch(rf"Error: {re.escape(str(tmp_path / 'nope.yaml'))}: no such file\n", result.output)


def test_alias_bomb_is_refused(write_script):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
              for i in range(1, 9)]
    path = write_script(HEAD + "params:\n" + "\n".join("  " + l for l in lines) + "\nsteps: [{say: hi}]\n")
    with pytest.raises(VoicecoachError, match=r"bad|test.yaml:\d+: "):
        load_script(path)


def test_deep_nesting_is_refused(write_script):
    path = write_script(HEAD + "steps: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(VoicecoachError, match=r"test.yaml:3: .*(nest|depth)"):
        load_script(path)


IF_SCRIPT = """
    voicecoach: 1
    title: Sizes
    params: {size: 1, mood: calm}
    steps:
      - say: Welcome.
      - if: $size > 1
        steps:
          - say: Begin with a smaller size.
          - if: $mood == calm
            steps: [{say: Calmly.}]
      - if: $size == 1
        steps: [{say: The first size.}]
      - repeat: 2
        steps:
          - if: $mood != calm
            steps: [{say: Not calm.}]
          - say: Again.
    """


@pytest.mark.parametrize("sets, said", [
    ([], ["Welcome.", "The first size.", "Again.", "Again."]),
    (["size=2"], ["Welcome.", "Begin with a smaller size.", "Calmly.", "Again.", "Again."]),
    (["size=3", "mood=tense"], ["Welcome.", "Begin with a smaller size.", "Not calm.", "Again.", "Not calm.", "Again."]),
])
def test_an_if_step_takes_its_steps_only_when_its_comparison_holds(write_script, sets, said):
    script = load_script(write_script(IF_SCRIPT), sets)

    def spoken(steps):
        for s in steps:
            if isinstance(s, Say):
                yield s.text
            elif isinstance(s, Repeat):
                for _ in range(s.times):
                    yield from spoken(s.steps)
    assert list(spoken(script.steps)) == said


@pytest.mark.parametrize("step, line, word", [
    ("- if: $size\n    steps: [{say: Hi.}]", 6, "like `$size > 1`"),
    ("- if: $size > big\n    steps: [{say: Hi.}]", 6, "needs two numbers"),
    ("- if: $nothing > 1\n    steps: [{say: Hi.}]", 6, "$nothing, which is not a parameter"),
    ("- if: $size > 1", 6, "needs `steps:`"),
    ("- if: $size > 1\n    steps: [{say: Hi.}]\n    say: Hello.", 6, "a step has one kind"),
    ("- if: $size > 5\n    steps: [{sya: Hi.}]", 7, "unknown step `sya`; did you mean `say`?"),   # checked even when left out
])
def test_a_bad_if_step_is_one_line_at_its_line(write_script, step, line, word):
    path = write_script(f"voicecoach: 1\ntitle: T\nparams: {{size: 1}}\nsteps:\n  - say: Welcome.\n  {step}\n")
    with pytest.raises(VoicecoachError) as found:
        load_script(path)
    message = str(found.value)
    assert f"{path}:{line}:" in message or f"line {line}" in message, message
    assert word in message, message


def test_a_list_whose_every_step_is_left_out_says_so(write_script):
    path = write_script("voicecoach: 1\ntitle: T\nparams: {size: 1}\nsteps:\n  - if: $size > 1\n    steps: [{say: Hi.}]\n")
    with pytest.raises(VoicecoachError, match="left out by its `if`"):
        load_script(path)
