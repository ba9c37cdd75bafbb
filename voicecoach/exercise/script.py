"""Exercise scripts (format version 1): loading, validating and resolving `$params`."""

from __future__ import annotations

import difflib
import math
import re
import shlex
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import AbstractSet, Mapping, Union

from voicecoach import paths
from voicecoach.errors import VoicecoachError, at, shown
from voicecoach.exercise.document import Document, Node
from voicecoach.exercise.levels import MAX_LEVEL, MIN_LEVEL, ToneLevels
from voicecoach.exercise.trainers import SIZE, program_sizes, sizes_text
from voicecoach.units import spoken

FORMAT_VERSION = 1

# Bounds that keep a typo (or a hostile file) from asking for days of audio.
MAX_STEP_SECONDS = 3600          # one pause, hold, rest or timeout
MAX_COUNT = 10_000               # reps, cycles, repeat
MAX_TEXT = 1000                  # characters in one spoken line
MAX_COUNTED_MS = 60_000          # a hold counted aloud, second by second (each number must fit its second)
MIN_RATE, MAX_RATE = 60, 400     # words per minute

DEFAULT_TIGHTEN = "Tighten"
DEFAULT_RELEASE = "And let go"
DEFAULT_BREATH_CUES = {"in": "Breathe in", "hold": "Hold", "out": "And out", "hold_out": "Hold"}

# name -> (in, hold, out, hold_out) seconds
BREATH_PRESETS = {
    "box": (4, 4, 4, 4),
    "4-7-8": (4, 7, 8, 0),
    "belly": (4, 0, 6, 0),
}


@dataclass(frozen=True)
class Section:
    name: str
    line: int
    keep_alive: bool | None = None  # tones in its long silences (`keep_alive:`); None: the script's choice


@dataclass(frozen=True)
class Say:
    text: str
    line: int


@dataclass(frozen=True)
class Pause:
    ms: int
    line: int


@dataclass(frozen=True)
class Chime:
    ms: int
    pitch: float
    line: int
    level: float | None = None  # dB relative to the voice; None: the session's (tones.chime)


@dataclass(frozen=True)
class Squeeze:
    hold_ms: int
    rest_ms: int
    reps: int
    tighten: str
    release: str
    count: bool
    line: int


@dataclass(frozen=True)
class Breathe:
    in_ms: int
    hold_ms: int
    out_ms: int
    hold_out_ms: int
    cycles: int
    cues: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class Wait:
    """Continue when ready: a spoken prompt, then up to `timeout_ms` for a key."""
    text: str
    timeout_ms: int
    line: int
    file: str | None = None     # what a file says instead: a file has no key to press (`file:`)


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple
    line: int


Step = Union[Section, Say, Pause, Chime, Squeeze, Breathe, Wait, Repeat]


@dataclass(frozen=True)
class VoiceSettings:
    """How the script asks to be spoken; CLI options override each field."""
    name: str | None = None
    rate: int | None = None
    volume: float | None = None
    name_line: int = 0      # where voice.name is, so a voice that cannot be found is named at its line


@dataclass(frozen=True)
class BackgroundSettings:
    """The bed a script asks for under its voice: a built-in name or a file, and its level in dB."""
    sound: str
    level: float | None
    line: int


@dataclass(frozen=True)
class Script:
    path: Path
    title: str
    about: str
    params: Mapping[str, object]
    voice: VoiceSettings
    steps: tuple
    length: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)
    background: BackgroundSettings | None = None
    tones: ToneLevels = ToneLevels()        # how far under the voice its tones sit (`tones:`)
    keep_alive: bool | None = None          # a file's tones in long silences (`keep_alive:`); None: unless a bed


# ---------------------------------------------------------------- values

_PARAM = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|(\$))")
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|seconds?|secs|sec|s|minutes?|mins|min|m|hours?|h)?\s*")
_UNIT = {None: 1, "ms": Fraction(1, 1000), "h": 3600}


def _unit(name):
    if name in _UNIT:
        return _UNIT[name]
    return 60 if name.startswith("m") else 3600 if name.startswith("h") else 1


def parse_duration(value) -> Fraction:
    """Seconds from a number or a text such as "3s", "2m", "1m30s", "500ms"."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError
        # The number as written (YAML's float read back by its shortest form): 1.0005 stays 1.0005 s, to be
        # refused as finer than a millisecond, where snapping the float had made it 1 s without a word.
        return Fraction(value) if isinstance(value, int) else Fraction(repr(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    total, pos, text = Fraction(0), 0, value.strip()
    sign = 1
    if text.startswith("-"):
        sign, text = -1, text[1:]
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError
        total += Fraction(m.group(1)) * _unit(m.group(2))
        pos = m.end()
    return sign * total


def _as_written(value, ms: int) -> str:
    """`ms` written the way `value` was: "2ms", "1.25s", or a plain number of seconds."""
    text = str(value).strip()
    if isinstance(value, str) and text.endswith("ms") and not any(c in text[:-2] for c in "hms"):
        return f"{ms}ms"
    whole, part = divmod(ms, 1000)
    seconds = f"{whole}.{part:03d}".rstrip("0") if part else str(whole)
    return f"{seconds}s" if isinstance(value, str) else seconds


def _whole_ms(exact: Fraction, value, allow_zero: bool, error) -> None:
    """Refuse `exact` milliseconds (as `value` was written) when they are not whole: `error(message)` makes the
    exception, and the message offers the nearest whole ones within the limits."""
    if exact.denominator == 1:
        return
    # Timings go to the millisecond; rounding a finer one would move every cue after it unasked.
    nearest = [n for n in (math.floor(exact), math.ceil(exact))
               if (n > 0 or allow_zero) and n <= MAX_STEP_SECONDS * 1000]
    ways = " or ".join(_as_written(value, n) for n in nearest)
    raise error(f"must be whole milliseconds, not {shown(value)}" + (f": write {ways}" if ways else ""))


class _Resolver:
    """Reads step values, substituting `$param` and checking types, with errors at the node's line."""

    def __init__(self, params: Mapping[str, object], param_lines: Mapping[str, Node],
                 overridden: AbstractSet[str] = frozenset()):
        self.params = params
        self.param_lines = param_lines
        self.overridden = overridden      # the params given with --set: a bad value is theirs, not the line's
        self.via: str | None = None       # the --set param the last raw() value came from, if any

    def error(self, node: Node, message: str) -> VoicecoachError:
        """An error at `node`, naming the --set that gave the value when one did."""
        if self.via is None:
            return node.error(message)
        return node.error(f"--set {self.via}={_format_param(self.params[self.via])}: {message}")

    def text(self, node: Node, what: str, wanted: str = "the words to speak") -> str:
        value = node.scalar(what)
        if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
            raise node.error(f"{what} must be text")
        text = self.substitute(node, str(value), what).strip()
        if not text:
            raise node.error(f"{what} is empty; give it {wanted}")
        if not any(unicodedata.category(c)[0] in "LNPS" for c in text):
            # Zero-width or other invisible characters only: a step that says nothing and takes no time.
            raise node.error(f"{what} has only invisible characters; give it {wanted}")
        if len(text) > MAX_TEXT:
            raise node.error(f"{what} is longer than {MAX_TEXT} characters; split it into several lines")
        if any(ord(c) < 32 and c not in "\t\n" for c in text):
            raise node.error(f"{what} contains control characters")
        return " ".join(text.split())

    def substitute(self, node: Node, text: str, what: str) -> str:
        def replace(m):
            if m.group(3):
                return "$"
            name = m.group(1) or m.group(2)
            if name not in self.params:
                known = ", ".join(sorted(self.params)) or "none are defined"
                raise node.error(f"{what} uses ${name}, which is not a parameter (params: {known})")
            return _format_param(self.params[name])
        return _PARAM.sub(replace, text)

    def raw(self, node: Node, what: str):
        """A scalar with `$param` references resolved; a lone `$name` keeps its param's type."""
        value = node.scalar(what)
        self.via = None
        if isinstance(value, str):
            m = _PARAM.fullmatch(value.strip())
            if m and not m.group(3):
                self.substitute(node, value, what)  # reports an unknown name
                name = m.group(1) or m.group(2)
                self.via = name if name in self.overridden else None
                return self.params[name]
            return self.substitute(node, value, what)
        return value

    def seconds(self, node: Node, what: str, *, allow_zero=False) -> int:
        """A duration in whole milliseconds."""
        value = self.raw(node, what)
        try:
            seconds = parse_duration(value)
        except (ValueError, ZeroDivisionError):
            raise self.error(node, f"{what} must be a number of seconds (like 5, \"3s\" or \"2m\"), not {shown(value)}") from None
        exact = seconds * 1000
        if exact < 0 or (exact == 0 and not allow_zero):
            kind = "zero or more" if allow_zero else "a positive number of"
            raise self.error(node, f"{what} must be {kind} seconds, not {shown(value)}")
        if seconds > MAX_STEP_SECONDS:
            longest = spoken(MAX_STEP_SECONDS * 1000)
            # Said in words, unless the words would be the limit itself or a number no one can read.
            said = spoken(math.ceil(exact)) if seconds < 10 ** 7 else "more than 100 days"
            raise self.error(node, f"{what} is {'over ' + said if said == longest else said}; "
                                   f"the longest allowed is {longest}")
        _whole_ms(exact, value, allow_zero, lambda message: self.error(node, f"{what} {message}"))
        return int(exact)

    def count(self, node: Node, what: str, *, limit=MAX_COUNT) -> int:
        value = self.raw(node, what)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                pass
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error(node, f"{what} must be a whole number of 1 or more, not {shown(value)}")
        if value > limit:
            raise self.error(node, f"{what} is {value}; the most allowed is {limit}")
        return value

    def number(self, node: Node, what: str, low: float, high: float) -> float:
        value = self.raw(node, what)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
            raise self.error(node, f"{what} must be a number from {low:g} to {high:g}, not {shown(value)}")
        return value

    def flag(self, node: Node, what: str) -> bool:
        value = self.raw(node, what)
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "false", "no", "off"):
            value = value.strip().lower() in ("true", "yes", "on")
        if not isinstance(value, bool):
            raise self.error(node, f"{what} must be true or false, not {shown(value)}")
        return value


def _format_param(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Fraction):
        return f"{float(value):g}"
    return str(value)


# ---------------------------------------------------------------- steps

def _fields(node: Node, what: str, allowed: AbstractSet[str], required: AbstractSet[str] = frozenset()) -> dict[str, Node]:
    found = {}
    for key, key_node, value in node.items(what):
        if key not in allowed:
            raise key_node.error(f"{what} has no setting `{key}` (it takes: {', '.join(sorted(allowed))})")
        found[key] = value
    for key in sorted(required):
        if key not in found:
            raise node.error(f"{what} needs `{key}`")
    return found


def _step(node: Node, r: _Resolver, depth: int):
    if not node.is_mapping:
        raise node.error("each step is one `kind: value` line, such as `say: Breathe out.` or `pause: 3`")
    entries = node.items("a step")
    kinds = [k for k, _, _ in entries if k in _STEP_KINDS]
    if not kinds:
        key, key_node, _ = entries[0] if entries else ("", node, None)
        close = difflib.get_close_matches(str(key).lower(), list(_STEP_KINDS), n=1, cutoff=0.6)
        meant = f"did you mean `{close[0]}`? " if close else ""
        raise key_node.error(f"unknown step `{key}`; {meant}(steps are: {', '.join(_STEP_KINDS)})")
    if len(kinds) > 1:
        raise node.error(f"a step has one kind, but this one has {' and '.join(kinds)}; put each on its own `- ` line")
    kind = kinds[0]
    allowed = {kind, "steps"} if kind in ("repeat", "if") else {kind, "keep_alive"} if kind == "section" else {kind}
    for key, key_node, _ in entries:
        if key not in allowed:
            raise key_node.error(f"`{key}` does not belong with a `{kind}` step")
    return _STEP_KINDS[kind](node, {k: v for k, _, v in entries}, r, depth)



def _section(node, values, r, depth):
    keep = r.flag(values["keep_alive"], "keep_alive") if "keep_alive" in values else None
    return Section(r.text(values["section"], "section"), node.line, keep)


def _say(node, values, r, depth):
    return Say(r.text(values["say"], "say"), values["say"].line)


def _pause(node, values, r, depth):
    return Pause(r.seconds(values["pause"], "pause"), values["pause"].line)


def _chime(node, values, r, depth):
    body = values["chime"]
    if body.is_scalar and body.scalar("chime") is None:
        return Chime(1500, 528.0, body.line)
    f = _fields(body, "chime", {"length", "pitch", "level"})
    ms = r.seconds(f["length"], "chime.length") if "length" in f else 1500
    if ms > 10_000:
        raise f["length"].error("chime.length is at most 10 seconds")
    pitch = r.number(f["pitch"], "chime.pitch", 100, 2000) if "pitch" in f else 528.0
    level = float(r.number(f["level"], "chime.level", MIN_LEVEL, MAX_LEVEL)) if "level" in f else None
    return Chime(ms, float(pitch), body.line, level)


def _squeeze(node, values, r, depth):
    body = values["squeeze"]
    f = _fields(body, "squeeze", {"hold", "rest", "reps", "tighten", "release", "count"}, {"hold", "rest"})
    hold_ms = r.seconds(f["hold"], "squeeze.hold")
    count = r.flag(f["count"], "squeeze.count") if "count" in f else False
    if count and hold_ms > MAX_COUNTED_MS:
        # Checked here, before any sound: a counted 60-minute hold would synthesise 3,599 numbers first.
        raise f["count"].error(f"squeeze.count says each second of the hold aloud, for holds of up to "
                               f"{MAX_COUNTED_MS // 1000} seconds; this hold is {hold_ms / 1000:g} s: "
                               "shorten it or leave out count")
    return Squeeze(
        hold_ms=hold_ms,
        rest_ms=r.seconds(f["rest"], "squeeze.rest"),
        reps=r.count(f["reps"], "squeeze.reps") if "reps" in f else 1,
        tighten=r.text(f["tighten"], "squeeze.tighten") if "tighten" in f else DEFAULT_TIGHTEN,
        release=r.text(f["release"], "squeeze.release") if "release" in f else DEFAULT_RELEASE,
        count=count,
        line=body.line,
    )


def _preset(node: Node, name: str):
    name = name.strip().lower()
    if name in BREATH_PRESETS:
        return BREATH_PRESETS[name]
    parts = name.split("-")
    if 2 <= len(parts) <= 4 and all(p.strip().replace(".", "", 1).isdigit() for p in parts):
        seconds = [Fraction(p.strip()) if len(p.strip()) <= 12 else math.inf for p in parts]
        # The same limits as the mapping form, before any sound is made: "<400 nines>-1" is no breath.
        if any(s > MAX_STEP_SECONDS for s in seconds):
            raise node.error(f"breathe: {shown(name)} has a phase longer than the longest allowed, "
                             f"{MAX_STEP_SECONDS // 60} minutes")
        if sum(seconds) * 1000 < 1:
            raise node.error(f"breathe: {shown(name)} takes no time; give each phase some seconds, like \"4-6\"")
        for part, phase in zip(parts, seconds):
            _whole_ms(Fraction(phase) * 1000, float(part), True,
                     lambda message: node.error(f"breathe: {shown(name)}: each phase {message}"))
        if len(seconds) == 2:       # in-out
            return (seconds[0], 0, seconds[1], 0)
        return tuple(seconds + [0] * (4 - len(seconds)))
    raise node.error(f"breathe: unknown pattern {shown(name)} (use box, 4-7-8, belly, \"4-6\" or a mapping with in/out)")


def _breathe(node, values, r, depth):
    body = values["breathe"]
    if body.is_scalar:
        preset = r.raw(body, "breathe")
        if not isinstance(preset, str):
            raise body.error("breathe takes a pattern (box, 4-7-8, \"4-6\") or a mapping with in/out")
        i, h, o, ho = _preset(body, preset)
        return Breathe(round(i * 1000), round(h * 1000), round(o * 1000), round(ho * 1000), 4, dict(DEFAULT_BREATH_CUES), body.line)
    f = _fields(body, "breathe", {"in", "hold", "out", "hold_out", "cycles", "pattern", "cues"})
    base = _preset(f["pattern"], str(r.raw(f["pattern"], "breathe.pattern"))) if "pattern" in f else None
    if base is None and not ("in" in f and "out" in f):
        raise body.error("breathe needs `in` and `out` (seconds), or a `pattern` such as box or 4-7-8")

    def part(key, index, allow_zero):
        if key in f:
            return r.seconds(f[key], f"breathe.{key}", allow_zero=allow_zero)
        return round(base[index] * 1000) if base else 0

    cues = dict(DEFAULT_BREATH_CUES)
    if "cues" in f:
        for key, key_node, value in f["cues"].items("breathe.cues"):
            if key not in cues:
                raise key_node.error(f"breathe.cues has no cue `{key}` (it takes: in, hold, out, hold_out)")
            cues[key] = r.text(value, f"breathe.cues.{key}")
    return Breathe(
        in_ms=part("in", 0, False),
        hold_ms=part("hold", 1, True),
        out_ms=part("out", 2, False),
        hold_out_ms=part("hold_out", 3, True),
        cycles=r.count(f["cycles"], "breathe.cycles") if "cycles" in f else 4,
        cues=cues,
        line=body.line,
    )


def _wait(node, values, r, depth):
    body = values["wait"]
    if body.is_scalar and isinstance(body.scalar("wait"), str):
        return Wait(r.text(body, "wait"), 120_000, body.line)
    f = _fields(body, "wait", {"say", "file", "timeout"}, {"say"})
    timeout = r.seconds(f["timeout"], "wait.timeout") if "timeout" in f else 120_000
    file = r.text(f["file"], "wait.file") if "file" in f else None
    return Wait(r.text(f["say"], "wait.say"), timeout, body.line, file)


MAX_REPEAT_DEPTH = 8


def _repeat(node, values, r, depth):
    if "steps" not in values:
        raise node.error("repeat needs `steps:`, the list of steps to repeat")
    if depth >= MAX_REPEAT_DEPTH:
        raise node.error(f"repeats nest more than {MAX_REPEAT_DEPTH} deep")
    times = r.count(values["repeat"], "repeat")
    steps = _steps(values["steps"], r, depth + 1, "repeat.steps")
    return Repeat(times, steps, node.line)


# `if: $size > 1`: a parameter's value against a number (or a word, with == and !=). One comparison and no
# more: a script stays a list of steps a person can read, and the trainer session for size 1 must not
# suggest a smaller size.
_CONDITION = re.compile(r"^\s*(.*?)\s*(==|!=|<=|>=|<|>)\s*(.*?)\s*$")
_COMPARE = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b}


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _if(node, values, r, depth):
    if "steps" not in values:
        raise node.error("if needs `steps:`, the list of steps to take when it holds")
    if depth >= MAX_REPEAT_DEPTH:
        raise node.error(f"steps nest more than {MAX_REPEAT_DEPTH} deep")
    condition = values["if"]
    text = r.substitute(condition, str(condition.scalar("if")), "if")
    m = _CONDITION.match(text)
    if m is None or not m.group(1) or not m.group(3):
        raise condition.error(f"if must compare a parameter with a value, like `$size > 1`, not {shown(text)}")
    left, op, right = m.groups()
    a, b = _as_number(left), _as_number(right)
    if a is not None and b is not None:
        holds = _COMPARE[op](a, b)
    elif op in ("==", "!="):
        holds = _COMPARE[op](left, right)
    else:
        raise condition.error(f"if compares {shown(left)} {op} {shown(right)}, but {op} needs two numbers")
    steps = _steps(values["steps"], r, depth + 1, "if.steps")   # checked either way, so a typo always shows
    return steps if holds else ()


_STEP_KINDS = {
    "section": _section,
    "say": _say,
    "pause": _pause,
    "squeeze": _squeeze,
    "breathe": _breathe,
    "repeat": _repeat,
    "chime": _chime,
    "wait": _wait,
    "if": _if,
}


def _steps(node: Node, r: _Resolver, depth: int, what: str) -> tuple:
    items = node.sequence(what)
    if not items:
        raise node.error(f"{what} is empty; add at least one step")
    steps: list = []
    for item in items:
        found = _step(item, r, depth)
        steps.extend(found if isinstance(found, tuple) else (found,))   # an `if` gives its steps, or none
    if not steps:
        raise node.error(f"{what}: every step here is left out by its `if`; keep at least one step outside them")
    return tuple(steps)


# ---------------------------------------------------------------- scripts

_TOP_KEYS = {"voicecoach", "title", "about", "params", "voice", "steps", "length", "tags", "background", "tones",
             "keep_alive"}
MIN_BED_LEVEL, MAX_BED_LEVEL = -40.0, -6.0     # dB under the voice (audio.beds checks the same range)


def parse_overrides(pairs, where: str = "") -> dict[str, object]:
    """`["hold=8", "size=2"]` -> {"hold": 8, "size": 2}; raises on a malformed pair."""
    out = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or not value.strip():
            raise VoicecoachError(f"{where}--set {shown(pair)}: write it as name=value, for example --set hold=8")
        out[name] = _typed(value.strip())
    return out


def _typed(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _params(node: Node | None, overrides: Mapping[str, object], path) -> tuple[dict, dict]:
    params, lines = {}, {}
    if node is not None and not (node.is_scalar and node.scalar("params") is None):
        for key, key_node, value in node.items("params"):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise key_node.error(f"params: `{key}` is not a usable name (letters, digits and _)")
            v = value.scalar(f"params.{key}")
            if v is None or isinstance(v, bool):
                raise value.error(f"params.{key} must be a number or a text")
            if isinstance(v, str) and "$" in v:
                raise value.error(f"params.{key} cannot refer to another parameter")
            params[key] = v
            lines[key] = value
    for key, given in overrides.items():    # not `value`: that names the Nodes above
        if key not in params:
            known = ", ".join(sorted(params)) or "it has none"
            line = node.line if node is not None else 1
            close = difflib.get_close_matches(key, list(params), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise at(path, line, f"--set {key}: the script has no parameter `{key}`{hint} (params: {known})")
        params[key] = _given(key, given, params[key], path, lines[key].line if key in lines else 1)
    return params, lines


def _given(key: str, given, default, path, line: int):
    """A --set value checked against its parameter: a number where the script has a number, and a trainer size
    one of the sizes the programs beside the script use."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        return given                        # a text parameter takes any text
    if isinstance(given, str):
        given = _typed(given.strip())
    number = not isinstance(given, bool) and isinstance(given, (int, float)) and math.isfinite(given)
    sizes = program_sizes(Path(path).parent) if key == SIZE else ()
    if sizes and not (number and given in sizes):
        example = sizes[1] if len(sizes) > 1 else sizes[0]
        raise at(path, line, f"--set {key}={_format_param(given)}: the program's trainers are {sizes_text(sizes)}; "
                             f"give one of those, e.g. --set {key}={example}")
    if not number:
        raise at(path, line, f"--set {key}={_format_param(given)}: {key} is a number ({Path(path).name} has "
                             f"{key}: {_format_param(default)}); give a number, e.g. --set {key}={_format_param(default)}")
    return given


def _voice(node: Node | None, r: _Resolver) -> VoiceSettings:
    if node is None:
        return VoiceSettings()
    f = _fields(node, "voice", {"name", "rate", "volume"})
    return VoiceSettings(
        name=r.text(f["name"], "voice.name") if "name" in f else None,
        rate=int(r.number(f["rate"], "voice.rate", MIN_RATE, MAX_RATE)) if "rate" in f else None,
        volume=float(r.number(f["volume"], "voice.volume", 0.05, 1.0)) if "volume" in f else None,
        name_line=f["name"].line if "name" in f else 0,
    )


BED_WANTED = "the name of a bed (brown, rain, waves, drone), a sound file, or none"


def _background(node: Node | None, r: _Resolver) -> BackgroundSettings | None:
    if node is None:
        return None
    if node.is_scalar:      # `background: waves` is short for `background: {sound: waves}`
        return BackgroundSettings(r.text(node, "background", BED_WANTED), None, node.line)
    f = _fields(node, "background", {"sound", "level"}, {"sound"})
    level = float(r.number(f["level"], "background.level", MIN_BED_LEVEL, MAX_BED_LEVEL)) if "level" in f else None
    return BackgroundSettings(r.text(f["sound"], "background.sound", BED_WANTED), level, f["sound"].line)


def _tones(node: Node | None, r: _Resolver) -> ToneLevels:
    if node is None or (node.is_scalar and node.scalar("tones") is None):
        return ToneLevels()
    if not node.is_mapping:
        raise node.error("tones: give levels in dB relative to the voice, such as `tones: {keep_alive: -18, chime: -8}`")
    names = set(ToneLevels.__dataclass_fields__)
    f = _fields(node, "tones", names)
    return ToneLevels(**{name: float(r.number(value, f"tones.{name}", MIN_LEVEL, MAX_LEVEL)) for name, value in f.items()})


def _program_hint(path: Path) -> str:
    """The commands that play a program's stages and list them, for the program at `path`."""
    try:
        library = Path(path).resolve() == (paths.scripts_dir() / "program.yaml").resolve()
    except OSError:
        library = False
    if library:
        return "`voicecoach today` plays the stage you are at, and `voicecoach show program` lists them"
    name = shlex.quote(str(path))
    return f"`voicecoach today --program {name}` plays the stage you are at, and `voicecoach show {name}` lists them"


def load_script(path, overrides=None) -> Script:
    """Load and validate a script, with `--set` overrides (a mapping, or "name=value" texts) applied."""
    doc = Document.load(path)
    return script_from_document(doc, overrides or {})


def script_from_document(doc: Document, overrides: Mapping[str, object]) -> Script:
    """Validate a parsed document as a version-1 script."""
    root = doc.root
    f = {}
    for key, key_node, value in root.items("the script"):
        if key == "stages" and "stages" not in _TOP_KEYS:
            raise key_node.error(f"this is a program of stages, not a script: {_program_hint(doc.path)}")
        if key not in _TOP_KEYS:
            raise key_node.error(f"unknown key `{key}` (a script has: {', '.join(sorted(_TOP_KEYS))})")
        f[key] = value
    if "voicecoach" not in f:
        raise root.error("the first line should be `voicecoach: 1` (the script format version)")
    version = f["voicecoach"].scalar("voicecoach")
    # Exactly the integer: YAML's `true` and `1.0` compare equal to 1 in Python, but are no version number.
    if type(version) is not int or version != FORMAT_VERSION:
        raise f["voicecoach"].error(f"format version {shown(version)} is not known; this voicecoach reads version "
                                    f"{FORMAT_VERSION} (write `voicecoach: {FORMAT_VERSION}`)")
    if not isinstance(overrides, Mapping):
        line = f["params"].line if "params" in f else root.line
        overrides = parse_overrides(overrides, where=f"{doc.path}:{line}: ")
    params, lines = _params(f.get("params"), overrides, doc.path)
    r = _Resolver(params, lines, frozenset(overrides) if isinstance(overrides, Mapping) else frozenset())
    for key in ("title", "steps"):
        if key not in f:
            raise root.error(f"the script needs `{key}:`")
    title = r.text(f["title"], "title")
    about = r.text(f["about"], "about") if "about" in f else ""
    length = r.text(f["length"], "length") if "length" in f else None
    return Script(
        path=doc.path,
        title=title,
        about=about,
        params=params,
        voice=_voice(f.get("voice"), r),
        steps=_steps(f["steps"], r, 0, "steps"),
        length=length,
        background=_background(f.get("background"), r),
        tones=_tones(f.get("tones"), r),
        keep_alive=r.flag(f["keep_alive"], "keep_alive") if "keep_alive" in f else None,
    )


def phrases(steps) -> list[str]:
    """Every distinct text the steps speak, in first-use order (repeats not expanded)."""
    seen: dict[str, None] = {}

    def walk(steps):
        for s in steps:
            if isinstance(s, (Say, Wait)):
                seen.setdefault(s.text)
            elif isinstance(s, Squeeze):
                seen.setdefault(s.tighten)
                if s.count:
                    for k in range(1, count_limit(s.hold_ms) + 1):
                        seen.setdefault(str(k))
                seen.setdefault(s.release)
            elif isinstance(s, Breathe):
                for key, ms in (("in", s.in_ms), ("hold", s.hold_ms), ("out", s.out_ms), ("hold_out", s.hold_out_ms)):
                    if ms > 0:
                        seen.setdefault(s.cues[key])
            elif isinstance(s, Repeat):
                walk(s.steps)

    walk(steps)
    return list(seen)


def timed_phrases(steps) -> list[str]:
    """The texts that must fit an interval (squeeze and breathe cues): their length is checked, so render them first."""
    says = set()

    def walk(steps):
        for s in steps:
            if isinstance(s, (Say, Wait)):
                says.add(s.text)
            elif isinstance(s, Repeat):
                walk(s.steps)

    walk(steps)
    timed = set()

    def fitted(steps):
        for s in steps:
            if isinstance(s, (Squeeze, Breathe)):
                timed.update(phrases([s]))
            elif isinstance(s, Repeat):
                fitted(s.steps)

    fitted(steps)
    return [text for text in phrases(steps) if text in timed]


def count_limit(hold_ms: int) -> int:
    """How many whole seconds are counted inside a hold: 1, 2, ... strictly before its end."""
    return max(0, (hold_ms - 1) // 1000)
