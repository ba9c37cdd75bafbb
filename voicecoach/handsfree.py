"""Hands-free (the shower): a spoken pre-roll, a soft earcon before each phase, a slower and louder voice.

Everything here is still a Timeline, so every cue keeps an exact start: the session is shifted by
the pre-roll, and each earcon ends EARCON_GAP_MS before the cue it announces.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from voicecoach.audio import loudness
from voicecoach.audio.mix import with_tones
from voicecoach.audio.tones import tone
from voicecoach.cache import Cache
from voicecoach.errors import VoicecoachError, shown
from voicecoach.exercise import medium
from voicecoach.exercise.levels import EARCON
from voicecoach.exercise.script import Script, load_script, phrases, timed_phrases
from voicecoach.exercise.timeline import (
    Cue,
    Timeline,
    build_timeline,
    check_limits,
    rooms,
    section_index,
    starting_at,
)
from voicecoach.session import (
    Session,
    background_for,
    choose_background,
    choose_voice,
    gather,
    levelled,
    with_background,
)
from voicecoach.speech.voice import Voice
from voicecoach.stream import SessionStream, reference_loudness, reference_texts
from voicecoach.units import samples_to_ms

PRE_ROLL_S = 20
RATE_FACTOR = 0.85          # hands-free speaks this much slower than the script's rate
EARCON_MS = 300
MIN_EARCON_MS = 150         # shorter than this it is a click, not a sound
EARCON_GAP_MS = 120         # silence between an earcon's end and its cue
RISING = {"tighten", "in"}  # the earcon before these glides up ...
FALLING = {"release", "out"}  # ... and before these, down
TARGET_RMS = 0.2            # of full scale, over the audible part: about -14 dBFS, clearly louder
PEAK = 0.95                 # never above this, so normalising never clips


def pre_roll_text(seconds: int) -> str:
    """What the pre-roll says."""
    return f"Starting in {seconds} second{'' if seconds == 1 else 's'}."


def earcon_text(direction: str, ms: int, level: float = EARCON) -> str:
    """The clip key of an earcon cue; brackets keep it apart from anything a script says."""
    return f"({direction} tone, {ms} ms, {level:g} dB)"


def earcon_samples(cue: Cue, voice_lufs: float = loudness.TARGET_LUFS) -> np.ndarray:
    """The samples an earcon cue stands for, at its level under a voice of loudness `voice_lufs`."""
    # Earcon cues always carry their earcon_text key; one without is not an earcon.
    if cue.text is None:
        raise ValueError(f"earcon cue at {cue.start} ms has no text")
    return tone(cue, voice_lufs)


def normalise(samples: np.ndarray) -> np.ndarray:
    """The clip at a common loudness (RMS of its audible part), its peak kept below PEAK."""
    x = samples.astype(np.float64)
    if not len(x):
        return samples
    loud = x[np.abs(x) >= 256]
    rms = float(np.sqrt(np.mean(np.square(loud if len(loud) else x))))
    peak = float(np.max(np.abs(x)))
    if rms == 0 or peak == 0:
        return samples
    gain = min(TARGET_RMS * 32767 / rms, PEAK * 32767 / peak)
    return np.clip(np.round(x * gain), -32768, 32767).astype(np.int16)


def hands_free_timeline(timeline: Timeline, *, pre_roll_ms: int, pre_roll: str | None, pre_roll_length: int,
                        earcon_ms: int = EARCON_MS, gap_ms: int = EARCON_GAP_MS, level: float = EARCON) -> Timeline:
    """The timeline shifted by the pre-roll, with an earcon ending gap_ms before every phase cue.

    Where a phase cue follows the sound before it too closely for its earcon, just enough
    silence is added there (everything after moves by the same amount), so every time stays exact. Each
    earcon sits `level` dB relative to the voice.
    """
    cues: list[Cue] = []
    if pre_roll_ms:
        if pre_roll_length + gap_ms > pre_roll_ms:
            raise VoicecoachError(f"a pre-roll of {pre_roll_ms / 1000:g} s is too short to say "
                                  f"{shown(pre_roll)} ({pre_roll_length / 1000:.1f} s); choose a longer --pre-roll")
        cues.append(Cue(0, pre_roll_length, "speech", "pre-roll", pre_roll, None, 0))
    heard_until = cues[-1].end if cues else 0      # end of the latest sound placed so far
    shift = pre_roll_ms
    originals: list[int] = []      # each cue's original start, its new start, and its earcon's start
    placed: list[tuple[int, int]] = []
    for c in timeline.cues:
        start = c.start + shift
        announce = start
        if c.role in RISING or c.role in FALLING:
            room = start - gap_ms - heard_until
            if room < MIN_EARCON_MS:
                shift += earcon_ms - room
                start = c.start + shift
                room = earcon_ms
            length = min(earcon_ms, room)
            announce = start - gap_ms - length
            direction = "rise" if c.role in RISING else "fall"
            cues.append(Cue(announce, length, "earcon", "earcon", earcon_text(direction, length, level), c.section,
                            c.line, level=level))
        originals.append(c.start)
        placed.append((start, announce))
        cues.append(replace(c, start=start))
        heard_until = max(heard_until, cues[-1].end)

    def moved(t: int) -> int:
        # A mark keeps its distance to the first cue at or after it, and takes in that cue's earcon.
        k = bisect.bisect_left(originals, t)
        if k == len(originals):
            return t + shift
        start, announce = placed[k]
        return min(start - (originals[k] - t), announce)

    sections = tuple(replace(s, start=moved(s.start)) for s in timeline.sections)
    return Timeline(timeline.title, tuple(cues), sections, timeline.length + shift)


@dataclass(frozen=True)
class Plan:
    """A script made hands-free: its file words, its slower voice, the pre-roll, and how it is laid out."""
    script: Script
    voice: Voice
    announce: str | None
    layout: Callable[[Mapping[str, int]], Timeline]

    @property
    def texts(self) -> list[str]:
        return ([self.announce] if self.announce else []) + phrases(self.script.steps)

    @property
    def first(self) -> list[str]:
        """The phrases a stream renders before it plays: the pre-roll and the timed cues."""
        return ([self.announce] if self.announce else []) + timed_phrases(self.script.steps)


def plan(path: str | Path, *, overrides: Mapping[str, object] | None = None, voice: str | None = None,
         rate: int | None = None, volume: float | None = None, pre_roll_s: int = PRE_ROLL_S,
         section: str | None = None, keep_alive: bool | None = None, background: str | None = None,
         background_level: float | None = None) -> Plan:
    """What hands-free makes of a script, before anything is rendered (`keep_alive` and a bed: see medium.quiet_spans)."""
    # Nobody can reach a key in the shower: hands-free says and sounds what a file does.
    script = load_script(path, overrides)
    check_limits(script)
    script = medium.for_file(script)
    chosen = choose_voice(script, name=voice, rate=rate, volume=volume)
    chosen = replace(chosen, rate=rate or max(60, round(chosen.rate * RATE_FACTOR)),
                     volume=1.0 if volume is None else chosen.volume)
    announce = pre_roll_text(pre_roll_s) if pre_roll_s else None
    bed = choose_background(script, background, background_level) is not None

    def layout(durations: Mapping[str, int]) -> Timeline:
        levels = script.tones
        timeline = medium.ready_tones(build_timeline(script, durations), levels.ready)
        if section is not None:
            timeline = starting_at(timeline, section_index(timeline, section))
        timeline = hands_free_timeline(timeline, pre_roll_ms=pre_roll_s * 1000, pre_roll=announce,
                                       pre_roll_length=durations.get(announce, 0) if announce else 0,
                                       level=levels.earcon)
        # Last: the pre-roll can be a long silence too.
        return medium.keep_alive(timeline, level=levels.keep_alive,
                                 quiet=medium.quiet_spans(timeline, script, keep_alive, bed))

    return Plan(script, chosen, announce, layout)


def prepare_hands_free(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
                       voice: str | None = None, rate: int | None = None, volume: float | None = None,
                       pre_roll_s: int = PRE_ROLL_S, section: str | None = None,
                       progress: Callable[[int, int], None] | None = None, background: str | None = None,
                       background_level: float | None = None, keep_alive: bool | None = None) -> Session:
    """A session laid out for hands-free: file words, slower, louder normalised voice, pre-roll and earcons (and a bed)."""
    made = plan(path, overrides=overrides, voice=voice, rate=rate, volume=volume, pre_roll_s=pre_roll_s,
                section=section, keep_alive=keep_alive, background=background, background_level=background_level)
    clips, synthesised = gather(made.voice, made.texts, cache, progress)
    clips = {text: normalise(samples) for text, samples in clips.items()}
    timeline = made.layout({text: samples_to_ms(len(s)) for text, s in clips.items()})
    # Earcons and tones at their levels under this voice, set as play sets them (see stream.reference_texts).
    heard = reference_loudness(cache, clips, reference_texts(made.texts, made.first))
    clips = with_tones(timeline, clips, heard)
    return with_background(Session(made.script, made.voice, timeline, clips, synthesised), background, background_level,
                           cache)


def stream_hands_free(path: str | Path, cache: Cache, *, overrides: Mapping[str, object] | None = None,
                      voice: str | None = None, rate: int | None = None, volume: float | None = None,
                      pre_roll_s: int = PRE_ROLL_S, section: str | None = None,
                      background: str | None = None,
                      background_level: float | None = None, keep_alive: bool | None = None) -> SessionStream:
    """The hands-free session as it will render once started: the pre-roll and timed cues first, the rest behind."""
    made = plan(path, overrides=overrides, voice=voice, rate=rate, volume=volume, pre_roll_s=pre_roll_s,
                section=section, keep_alive=keep_alive, background=background, background_level=background_level)
    return SessionStream(made.texts, made.layout, made.voice, cache, first=made.first, shape=normalise,
                         script=made.script, rooms=rooms(made.script),
                         bed=background_for(made.script, background, background_level, cache), level=levelled)
