"""The timeline: when every cue of a script sounds, in whole milliseconds; pure, no audio."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, replace
from typing import Iterator, Mapping

from voicecoach.errors import VoicecoachError, at, shown
from voicecoach.exercise.script import (
    Breathe,
    Chime,
    Pause,
    Repeat,
    Say,
    Script,
    Section,
    Squeeze,
    Wait,
    count_limit,
)
from voicecoach.units import clock

MAX_SESSION_MS = 12 * 3600 * 1000   # a session longer than 12 hours is a mistake
MAX_EVENTS = 200_000                # cues, sections and pauses after expanding repeats


@dataclass(frozen=True)
class Cue:
    start: int          # ms from the start of the session
    length: int         # ms of sound (speech length, chime length)
    kind: str           # "speech" or "chime"
    role: str           # say, tighten, count, release, in, hold, out, hold_out, wait, chime
    text: str | None
    section: int | None  # index into Timeline.sections
    line: int
    wait: int = 0       # for role "wait": ms the player waits for a key after the prompt
    pitch: float = 0.0  # for chimes: the tone's frequency in Hz
    level: float = 0.0  # for tones (chimes, earcons): dB relative to the voice (see exercise.levels)

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Mark:
    name: str
    start: int
    line: int


@dataclass(frozen=True)
class Timeline:
    title: str
    cues: tuple
    sections: tuple
    length: int          # ms

    def to_dict(self) -> dict:
        """Plain data for JSON: times in seconds with millisecond precision."""
        def sec(ms):
            return ms / 1000
        return {
            "title": self.title,
            "length": sec(self.length),
            "sections": [{"name": s.name, "start": sec(s.start), "line": s.line} for s in self.sections],
            "cues": [
                {**{k: v for k, v in asdict(c).items()
                    if k not in ("start", "length", "section", "wait", "pitch", "level")},
                 "start": sec(c.start), "end": sec(c.end),
                 "section": self.sections[c.section].name if c.section is not None else None,
                 **({"wait": sec(c.wait)} if c.role == "wait" else {}),
                 **({"level": c.level} if c.kind != "speech" else {})}
                for c in self.cues
            ],
        }

    def section_at(self, ms: int) -> int | None:
        """Index of the section playing at `ms`, or None before the first."""
        found = None
        for i, s in enumerate(self.sections):
            if s.start <= ms:
                found = i
        return found


def _phases(s: Breathe) -> list[tuple[str, int]]:
    return [(role, ms) for role, ms in (("in", s.in_ms), ("hold", s.hold_ms), ("out", s.out_ms),
                                        ("hold_out", s.hold_out_ms)) if ms > 0]


def _timed(steps) -> Iterator[tuple[Squeeze | Breathe, str, int, str]]:
    """(step, text, room in ms, what gives the room) for every cue that must fit an interval, in script order."""
    for s in steps:
        if isinstance(s, Squeeze):
            counted = count_limit(s.hold_ms) if s.count else 0
            yield (s, s.tighten, 1000 if counted else s.hold_ms,
                   "the first second of the hold" if counted else "squeeze.hold")
            for k in range(1, counted + 1):
                yield s, str(k), 1000 if k < counted else s.hold_ms - k * 1000, "the count's second"
            yield s, s.release, s.rest_ms, "squeeze.rest"
        elif isinstance(s, Breathe):
            for role, ms in _phases(s):
                yield s, s.cues[role], ms, f"breathe.{role}"
        elif isinstance(s, Repeat):
            yield from _timed(s.steps)


def rooms(script: Script) -> dict[str, int]:
    """The least time (ms) each timed cue (a squeeze's or a breath's words) is given to be said in."""
    least: dict[str, int] = {}
    for _, text, room, _ in _timed(script.steps):
        least[text] = min(room, least.get(text, room))
    return least


def _fits(script: Script, step, text: str, durations: Mapping[str, int], room: int, what: str) -> int:
    length = durations[text]
    if length > room:
        raise at(script.path, step.line,
                 f"the cue {shown(text)} takes {length / 1000:.2f} s to say with this voice and rate, "
                 f"but {what} leaves it only {room / 1000:g} s; lengthen {what} or shorten the cue")
    return length


def _measure(script: Script, steps, durations) -> tuple[int, int]:
    """(ms, events) of steps after expansion, computed without expanding repeats."""
    ms = events = 0
    for s in steps:
        if isinstance(s, Section):
            events += 1
        elif isinstance(s, Say):
            ms += durations[s.text]
            events += 1
        elif isinstance(s, Pause):
            ms += s.ms
            events += 1
        elif isinstance(s, Chime):
            ms += s.ms
            events += 1
        elif isinstance(s, Wait):
            ms += durations[s.text] + s.timeout_ms
            events += 1
        elif isinstance(s, Squeeze):
            ms += s.reps * (s.hold_ms + s.rest_ms)
            events += s.reps * (2 + (count_limit(s.hold_ms) if s.count else 0))
        elif isinstance(s, Breathe):
            ms += s.cycles * (s.in_ms + s.hold_ms + s.out_ms + s.hold_out_ms)
            events += s.cycles * 4
        elif isinstance(s, Repeat):
            inner_ms, inner_events = _measure(script, s.steps, durations)
            ms += s.times * inner_ms
            events += s.times * inner_events
        if ms > MAX_SESSION_MS or events > MAX_EVENTS:
            raise at(script.path, s.line,
                     f"this makes the session longer than {MAX_SESSION_MS // 3_600_000} hours "
                     f"or {MAX_EVENTS:,} steps; shorten it or lower its repeats")
    return ms, events


class _Silent(dict):
    """Every phrase taking no time: what a script's length is at the least, before anything is spoken."""
    def __missing__(self, text):
        return 0


def check_limits(script: Script) -> None:
    """Refuse a script whose session would be too long or too many steps even if it said nothing: before any audio."""
    _measure(script, script.steps, _Silent())


def session_length(script: Script, durations: Mapping[str, int]) -> int:
    """The session's length in ms for these phrase lengths, without laying it out (no interval checks)."""
    return _measure(script, script.steps, durations)[0]


def build_timeline(script: Script, durations: Mapping[str, int]) -> Timeline:
    """Place every cue of `script` in time, given each phrase's spoken length in ms."""
    _measure(script, script.steps, durations)
    for step, text, room, what in _timed(script.steps):
        _fits(script, step, text, durations, room, what)
    cues: list[Cue] = []
    sections: list[Mark] = []

    def cue(start, text, role, step, kind="speech", length=None, wait=0, pitch=0.0, level=0.0):
        section = len(sections) - 1 if sections else None
        length = durations[text] if length is None else length
        cues.append(Cue(start, length, kind, role, text, section, step.line, wait, pitch, level))

    def walk(steps, t: int) -> int:
        for s in steps:
            if isinstance(s, Section):
                sections.append(Mark(s.name, t, s.line))
            elif isinstance(s, Say):
                cue(t, s.text, "say", s)
                t += durations[s.text]
            elif isinstance(s, Pause):
                t += s.ms
            elif isinstance(s, Chime):
                level = s.level if s.level is not None else script.tones.chime
                cue(t, None, "chime", s, kind="chime", length=s.ms, pitch=s.pitch, level=level)
                t += s.ms
            elif isinstance(s, Wait):
                cue(t, s.text, "wait", s, wait=s.timeout_ms)
                t += durations[s.text] + s.timeout_ms
            elif isinstance(s, Squeeze):
                counted = count_limit(s.hold_ms) if s.count else 0
                for _ in range(s.reps):
                    cue(t, s.tighten, "tighten", s)
                    for k in range(1, counted + 1):
                        cue(t + k * 1000, str(k), "count", s)
                    cue(t + s.hold_ms, s.release, "release", s)
                    t += s.hold_ms + s.rest_ms
            elif isinstance(s, Breathe):
                for _ in range(s.cycles):
                    for role, ms in _phases(s):
                        if ms > 0:
                            cue(t, s.cues[role], role, s)
                            t += ms
            elif isinstance(s, Repeat):
                for _ in range(s.times):
                    t = walk(s.steps, t)
        return t

    length = walk(script.steps, 0)
    return Timeline(script.title, tuple(cues), tuple(sections), length)



def cue_sheet(timeline: Timeline) -> str:
    """A readable listing of the timeline: sections and every cue with its start time."""
    width = len(clock(timeline.length))      # the end is the latest time: every time is right-aligned to it

    def at(ms: int) -> str:
        return clock(ms).rjust(width)
    lines = [f"{timeline.title} — {clock(timeline.length)}"]
    next_section = 0
    for cue in timeline.cues:
        while next_section < len(timeline.sections) and timeline.sections[next_section].start <= cue.start:
            mark = timeline.sections[next_section]
            lines.append(f"\n{at(mark.start)}  == {mark.name} ==")
            next_section += 1
        what = f"(chime {cue.length / 1000:g} s)" if cue.kind == "chime" else cue.text
        extra = f"  [then waits up to {cue.wait / 1000:g} s]" if cue.role == "wait" else ""
        lines.append(f"{at(cue.start)}  {cue.role:<8} {what}{extra}")
    for mark in timeline.sections[next_section:]:
        lines.append(f"\n{at(mark.start)}  == {mark.name} ==")
    lines.append(f"{at(timeline.length)}  end")
    return "\n".join(lines)


def section_index(timeline: Timeline, name: str) -> int:
    """The index of the section called `name` (case and surrounding space ignored)."""
    wanted = " ".join(name.split()).casefold()
    names = [" ".join(s.name.split()).casefold() for s in timeline.sections]
    if wanted in names:
        return names.index(wanted)
    if wanted.isdigit() and 1 <= int(wanted) <= len(names):     # --from 2: the second section
        return int(wanted) - 1
    # Part of a name, or close to one ("first time" for "First time with the trainer", "closng"),
    # as long as only one section fits.
    for fits in ([i for i, n in enumerate(names) if n.startswith(wanted)],
                 [i for i, n in enumerate(names) if wanted in n],
                 [names.index(n) for n in difflib.get_close_matches(wanted, names, n=2, cutoff=0.75)]):
        if len(fits) == 1:
            return fits[0]
    listed = ", ".join(repr(s.name) for s in timeline.sections) or "none"
    raise VoicecoachError(f"there is no section {shown(name)} in this script (sections: {listed}; "
                          "the start of a name or its number is enough)")


def starting_at(timeline: Timeline, index: int) -> Timeline:
    """The timeline from section `index` on, with times shifted so it starts at 0."""
    t0 = timeline.sections[index].start
    # Every step advances time, so no cue straddles a section's start.
    cues = tuple(replace(c, start=c.start - t0, section=c.section - index)
                 for c in timeline.cues if c.start >= t0)
    sections = tuple(replace(s, start=s.start - t0) for s in timeline.sections[index:])
    return Timeline(timeline.title, cues, sections, timeline.length - t0)
