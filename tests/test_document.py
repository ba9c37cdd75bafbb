"""Hostile and random input to the script loader: only our own error type escapes, always with file:line."""

import os
import re
import resource
import subprocess
import sys
import textwrap

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.script import load_script

FUZZ_EXAMPLES = int(os.environ.get("VOICECOACH_FUZZ_EXAMPLES", "10000"))

VALID = textwrap.dedent("""\
    voicecoach: 1
    title: Fuzz
    params: {hold: 5, rest: 10}
    steps:
      - section: A
      - say: Hello $hold.
      - pause: 2s
      - squeeze: {hold: $hold, rest: $rest, reps: 2, count: true}
      - breathe: {in: 4, hold: 1, out: 6, cycles: 2}
      - repeat: 2
        steps: [{say: Again.}, {pause: 1}]
      - wait: {say: Ready?, timeout: 30}
      - chime: {length: 1, pitch: 440}
    """)


def check(path):
    """Load `path`; anything but success or a VoicecoachError naming the file and a line fails the test."""
    try:
        load_script(path)
    except VoicecoachError as e:
        message = str(e)
        assert re.match(rf"{re.escape(str(path))}:[1-9]\d*: \S", message), message
        assert "\n" not in message


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["$hold", "${rest}", "$nope", "3s", "2m", "-1", "box",
                                                           "4-7-8", "0", "1e400", "nan"]))
keys = st.sampled_from(["voicecoach", "title", "about", "params", "voice", "steps", "say", "pause", "squeeze",
                        "breathe", "repeat", "chime", "wait", "section", "hold", "rest", "reps", "in", "out",
                        "cycles", "count", "timeout", "rate", "volume", "name", "cues", "pattern", "x"])
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


@st.composite
def documents(draw):
    """Mostly script-shaped documents: a valid head, steps drawn from the step vocabulary."""
    steps = draw(st.lists(st.dictionaries(keys, trees, min_size=1, max_size=2), max_size=6))
    doc = {"voicecoach": draw(st.sampled_from([1, 1, 1, 2, "1", None])), "title": draw(scalars), "steps": steps}
    if draw(st.booleans()):
        doc["params"] = draw(st.dictionaries(st.sampled_from(["hold", "rest", "x y", "$"]), scalars, max_size=3))
    return yaml.safe_dump(doc, allow_unicode=True)


@st.composite
def mutated(draw):
    """The valid script with a few characters inserted, deleted or swapped."""
    text = list(VALID)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["del", "ins", "dup"]))
        if op == "del":
            del text[i]
        elif op == "ins":
            text.insert(i, draw(st.sampled_from(list(":-[]{}&*!|>'\"#%@`$ \t\n0a\x00\x85\u2028"))))
        else:
            text.insert(i, text[i])
    return "".join(text)


# Three strategies share the budget: together they run at least FUZZ_EXAMPLES examples.
fuzz = settings(max_examples=-(-FUZZ_EXAMPLES // 3), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@fuzz
@given(documents())
def test_fuzz_structured_documents(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    check(path)


@pytest.mark.slow
@fuzz
@given(mutated())
def test_fuzz_mutated_scripts(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check(path)


@pytest.mark.slow
@fuzz
@given(st.binary(max_size=400))
def test_fuzz_raw_bytes(tmp_path, data):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    check(path)


def test_the_valid_fuzz_seed_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(VALID)
    assert load_script(path).title == "Fuzz"


def alias_bomb():
    lines = ["voicecoach: 1", "title: Bomb", "params:", '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines + ["steps: [{say: hi}]", ""]).encode()


def steps_bomb():
    """Valid-looking nested repeats whose aliases would expand into 10^8 steps."""
    level = "&a0 [" + ", ".join(["{say: hi}"] * 10) + "]"
    for i in range(1, 8):
        level = (f"&a{i} [{{repeat: 1, steps: {level}}}, "
                 + ", ".join([f"{{repeat: 1, steps: *a{i - 1}}}"] * 9) + "]")
    return f"voicecoach: 1\ntitle: Bomb\nsteps: {level}\n".encode()


HOSTILE = {
    "billion laughs": (alias_bomb, ""),
    "aliased steps": (steps_bomb, "too many elements"),
    "deep nesting": (lambda: b"voicecoach: 1\ntitle: Deep\nsteps: " + b"[" * 100_000 + b"]" * 100_000, ""),
    "deep block nesting": (lambda: b"voicecoach: 1\nsteps:\n" + b"".join(b"  " * i + b"- \n" for i in range(3000)), ""),
    "50 MB": (lambda: b"voicecoach: 1\ntitle: Big\nsteps:\n" + b"  - say: hello there\n" * 2_500_000, "larger than"),
    "non UTF-8": (lambda: b"voicecoach: 1\ntitle: \xff\xfe\xfa\nsteps: [{say: hi}]\n", "UTF-8"),
    "repeat 10^9": (lambda: b"voicecoach: 1\ntitle: R\nsteps:\n  - repeat: 1000000000\n    steps: [{say: hi}]\n", "most allowed"),
    "pause 10^9": (lambda: b"voicecoach: 1\ntitle: P\nsteps:\n  - pause: 1000000000\n", "longest allowed"),
    "nested repeats": (lambda: b"voicecoach: 1\ntitle: N\nsteps:\n" + b"".join(
        b"  " * i + b"  - repeat: 10000\n" + b"  " * i + b"    steps:\n" for i in range(6)) + b"  " * 6 + b"  - pause: 1\n", ""),
    "10,000-character line": (lambda: b"voicecoach: 1\ntitle: L\nsteps:\n  - say: " + b"la " * 3400 + b"\n", "1000 characters"),
}


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))    # 1 GiB of address space
    resource.setrlimit(resource.RLIMIT_CPU, (10, 10))              # seconds of CPU: a bound, not a benchmark


@pytest.mark.slow
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_refused_in_bounded_memory_and_time(tmp_path, name):
    make, word = HOSTILE[name]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(make())
    probe = ("import sys\nfrom voicecoach.exercise.script import load_script\nfrom voicecoach.exercise.timeline import build_timeline\n"
             "from voicecoach.errors import VoicecoachError\n"
             "try:\n    s = load_script(sys.argv[1])\n    build_timeline(s, {'hi': 300})\n"
             "except VoicecoachError as e:\n    print(e)\n    sys.exit(1)\n")
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True,
                            preexec_fn=_limits, timeout=60)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    message = result.stdout.strip()
    assert re.match(rf"{re.escape(str(path))}:[1-9]\d*: ", message) and word in message, message
    assert result.stderr == ""
