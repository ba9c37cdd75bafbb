"""A session for a file: words that ask for no key, a soft "ready" tone at the end of each wait, and never
more than MAX_SILENCE_MS without a sound. Pure: scripts and timelines in, scripts and timelines out.

A file (on a phone, in the shower) has no space bar, and a long silence there feels like the file has
stopped. keep_alive is the one place that fills long silences; a bed under the session stands in for it
(see quiet_spans), and a script or a section can ask for silence (`keep_alive: false`).
"""

from __future__ import annotations

import re
from dataclasses import replace

from voicecoach.exercise.levels import KEEP_ALIVE, READY
from voicecoach.exercise.script import Repeat, Script, Section, Step, Wait
from voicecoach.exercise.timeline import Cue, Timeline

MAX_SILENCE_MS = 30_000     # the longest a file may go without a sound
PRESENCE_EVERY_MS = 20_000  # a long silence gets a tone at least this often, well inside the limit
PRESENCE_MS = 600
PRESENCE_PITCH = 396.0      # low and short: "still running", not a cue
READY_MS = 900
READY_PITCH = 660.0         # higher than the presence tone: "time to go on"
READY_LEAD_MS = 600         # silence between the ready tone and what follows (room for an earcon)
MIN_TONE_MS = 150           # shorter than this a tone is a click

# A sentence that asks for a key, which a file cannot answer.
_KEYS = re.compile(r"\b(press|pressing|space|spacebar|key|keys|click|tap)\b", re.IGNORECASE)
_SENTENCES = re.compile(r"[^.!?]+[.!?]*")
FILE_TIME = "There is time for this. A soft tone will sound when it is time to go on."


def file_prompt(wait: Wait) -> str:
    """What a wait says in a file: its `file:` form, else its prompt without the sentences that ask for a key."""
    if wait.file:
        return wait.file
    kept = [s.strip() for s in _SENTENCES.findall(wait.text) if s.strip() and not _KEYS.search(s)]
    return " ".join(kept + [FILE_TIME])


def _for_file(steps) -> tuple:
    out: list[Step] = []
    for s in steps:
        if isinstance(s, Wait):
            out.append(replace(s, text=file_prompt(s), file=None))
        elif isinstance(s, Repeat):
            out.append(replace(s, steps=_for_file(s.steps)))
        else:
            out.append(s)
    return tuple(out)


def for_file(script: Script) -> Script:
    """The script as a file says it: every wait's prompt in its file form."""
    return replace(script, steps=_for_file(script.steps))


def _tone(timeline: Timeline, start: int, length: int, role: str, pitch: float, line: int, level: float) -> Cue:
    return Cue(start, length, "chime", role, None, timeline.section_at(start), line, 0, pitch, level)


def _with(timeline: Timeline, added: list[Cue]) -> Timeline:
    # Stable: a tone and a cue never share a start, but sorting keeps the cue list in time order.
    cues = tuple(sorted((*timeline.cues, *added), key=lambda c: c.start))
    return replace(timeline, cues=cues)


def ready_tones(timeline: Timeline, level: float = READY) -> Timeline:
    """A soft tone (`level` dB relative to the voice) near the end of each wait's time, ending READY_LEAD_MS
    before what follows."""
    added = []
    for cue in timeline.cues:
        if cue.role != "wait" or cue.wait <= 0:
            continue
        lead = READY_LEAD_MS if cue.wait >= READY_LEAD_MS + 2 * MIN_TONE_MS else 0
        length = min(READY_MS, cue.wait - lead)
        if length >= MIN_TONE_MS:
            added.append(_tone(timeline, cue.end + cue.wait - lead - length, length, "ready", READY_PITCH, cue.line,
                               level))
    return _with(timeline, added)


def quiet_spans(timeline: Timeline, script: Script, asked: bool | None = None,
                bed: bool = False) -> tuple[tuple[int, int], ...]:
    """The (start, end) ms spans of `timeline` where no keep-alive tone may sound: everywhere with
    --no-keep-alive (`asked` False), nowhere with --keep-alive (True); else each section's `keep_alive:`,
    then the script's, then off under a bed (it fills a silence, so a tone is no longer needed) and on without."""
    if asked is not None:
        return () if asked else ((0, timeline.length),)
    default = script.keep_alive if script.keep_alive is not None else not bed
    chosen = {s.line: s.keep_alive for s in _sections(script.steps) if s.keep_alive is not None}
    # A section runs from its mark to the next one; before the first mark, the script's choice holds.
    marks = [(0, default), *((m.start, chosen.get(m.line, default)) for m in timeline.sections)]
    ends = [start for start, _ in marks[1:]] + [timeline.length]
    spans: list[tuple[int, int]] = []
    for (start, wanted), end in zip(marks, ends):
        if wanted or end <= start:
            continue
        if spans and spans[-1][1] >= start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return tuple(spans)


def _sections(steps) -> list[Section]:
    found: list[Section] = []
    for s in steps:
        if isinstance(s, Section):
            found.append(s)
        elif isinstance(s, Repeat):
            found.extend(_sections(s.steps))
    return found


def keep_alive(timeline: Timeline, limit_ms: int = MAX_SILENCE_MS, every_ms: int = PRESENCE_EVERY_MS,
               level: float = KEEP_ALIVE, quiet: tuple[tuple[int, int], ...] = ()) -> Timeline:
    """The timeline with a soft tone (`level` dB relative to the voice), evenly spaced, in every silence
    longer than limit_ms, except inside the `quiet` (start, end) ms spans (see quiet_spans)."""
    added = []
    heard, line = 0, 0
    for cue in (*sorted(timeline.cues, key=lambda c: c.start), None):
        start = timeline.length if cue is None else cue.start
        gap = start - heard
        if gap > limit_ms:
            n = -(-gap // every_ms) - 1         # tones, so each silence is at most every_ms
            for k in range(1, n + 1):
                middle = heard + k * gap // (n + 1)
                if any(lo <= middle < hi for lo, hi in quiet):
                    continue
                added.append(_tone(timeline, middle - PRESENCE_MS // 2, PRESENCE_MS, "presence",
                                   PRESENCE_PITCH, line, level))
        if cue is not None:
            heard, line = max(heard, cue.end), cue.line
    return _with(timeline, added)
