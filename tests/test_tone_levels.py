"""Tones that are not words sit under the voice at their stated levels, measured in real files: a keep-alive
tone in a long pause, a chime, a ready tone after a wait, hands-free earcons; with and without a bed, in
exports (WAV and a lossy format), in a render at a low volume, and as a script's keys set them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import loudness
from voicecoach.audio.tones import is_tone
from voicecoach.errors import VoicecoachError
from voicecoach.exercise import levels
from voicecoach.exercise.script import load_script
from voicecoach.export.file import export_script, render_script
from voicecoach.units import RATE, SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: Quiet stays quiet
steps:
  - say: Settle in, and let your shoulders drop.
  - pause: 60
  - say: Still here with you.
  - chime: {CHIME}
  - say: Now rest for a moment.
  - wait: {{say: Take your time., timeout: 8}}
  - breathe: {{in: 3, out: 4, cycles: 1}}
  - say: Well done, that is all for now.
{TONES}"""

OVER_BY = 1.0           # LU a tone may measure over its stated level


def script_text(chime="{}", tones=""):
    return SCRIPT.format(CHIME=chime, TONES=tones)


def decode(path) -> np.ndarray:
    """The file as a player decodes it, mono int16 at the internal rate."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1",
                          "-ar", str(RATE), "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2")


def heard(samples: np.ndarray) -> float:
    """BS.1770 integrated loudness (LUFS) of `samples`, gated, over their own span."""
    total = len(samples)
    return loudness.gated(loudness.sub_blocks([loudness.contribution(0, loudness.energy(samples), total)], total),
                          total)


def levels_measured(samples: np.ndarray, timeline) -> list[tuple[str, float, float]]:
    """(role, stated level, measured level) of every tone: its loudness over its own span minus the voice's
    (every speech cue's span, the rest silenced)."""
    speech = np.zeros_like(samples)
    for cue in timeline.cues:
        if not is_tone(cue):
            a, b = cue.start * SAMPLES_PER_MS, cue.end * SAMPLES_PER_MS
            speech[a:b] = samples[a:b]
    voice = heard(speech)
    assert np.isfinite(voice)
    return [(cue.role, cue.level, heard(samples[cue.start * SAMPLES_PER_MS: cue.end * SAMPLES_PER_MS]) - voice)
            for cue in timeline.cues if is_tone(cue)]


def check(found, *, exact=True):
    roles = {role for role, _, _ in found}
    for role, stated, measured in found:
        assert measured <= stated + OVER_BY, f"{role} at {measured:+.1f} LU, stated {stated:+g}"
        if exact:           # without a bed the tone is nothing but itself: it is at its level, not just under it
            assert measured >= stated - OVER_BY, f"{role} at {measured:+.1f} LU, stated {stated:+g}"
    return roles


@pytest.mark.slow
@pytest.mark.parametrize("hands_free", [False, True], ids=["file", "hands-free"])
@pytest.mark.parametrize("bed", [None, "waves"], ids=["plain", "bed"])
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_every_tone_sits_at_its_level_under_the_voice_in_an_export(write_script, shared_cache, tmp_path, hands_free,
                                                                    bed, fmt):
    path = write_script(script_text())
    options = {"background": bed, "keep_alive": True} if bed else {}      # under a bed, only when asked
    done = export_script(path, tmp_path / f"out.{fmt}", shared_cache, hands_free=hands_free, pre_roll=3,
                         transcript=False, **options)
    samples = decode(done.path)
    found = levels_measured(samples, done.session.timeline)
    roles = check(found, exact=bed is None)
    assert {"presence", "chime", "ready"} <= roles
    if hands_free:
        assert "earcon" in roles
    stated = {role: level for role, level, _ in found}
    assert stated["presence"] == levels.KEEP_ALIVE and stated["ready"] == levels.READY
    assert stated["chime"] == levels.CHIME and stated.get("earcon", levels.EARCON) == levels.EARCON
    # The session's own loudness stays on target, whatever its tones.
    measured = loudness.measure_file(done.path)
    assert measured.within(), measured


@pytest.mark.slow
def test_the_script_keys_move_the_measured_levels(write_script, shared_cache, tmp_path):
    path = write_script(script_text(chime="{level: -3}",
                                    tones="tones: {keep_alive: -26, ready: -14, earcon: -2}\n"))
    script = load_script(path)
    assert (script.tones.keep_alive, script.tones.ready, script.tones.earcon) == (-26, -14, -2)
    for hands_free in (False, True):
        done = export_script(path, tmp_path / f"keys-{hands_free}.wav", shared_cache, hands_free=hands_free,
                             pre_roll=3, transcript=False)
        found = levels_measured(decode(done.path), done.session.timeline)
        stated = {role: level for role, level, _ in found}
        assert stated["presence"] == -26 and stated["ready"] == -14 and stated["chime"] == -3
        check(found)
        assert loudness.measure_file(done.path).within()


@pytest.mark.slow
@pytest.mark.parametrize("volume", [0.2, 1.0], ids=["quiet", "loud"])
def test_a_render_keeps_the_levels_at_any_volume(write_script, shared_cache, tmp_path, volume):
    path = write_script(script_text())
    session = render_script(path, tmp_path / "out.wav", shared_cache, volume=volume)
    found = levels_measured(decode(tmp_path / "out.wav"), session.timeline)
    # The reference is the voice's first words and timed cues, not all of it: a LU or so of leeway under.
    for role, stated, measured in found:
        assert stated - 2.5 <= measured <= stated + OVER_BY, (role, measured)
    assert {role for role, _, _ in found} == {"chime"}


@pytest.mark.parametrize("text, message", [
    (script_text(chime="{level: 3}"), "chime.level must be a number from -40 to 0, not 3"),
    (script_text(chime="{level: loud}"), "chime.level must be a number from -40 to 0, not 'loud'"),
    (script_text(tones="tones: {keep_alive: -60}\n"), "tones.keep_alive must be a number from -40 to 0, not -60"),
    (script_text(tones="tones: {ready: 1}\n"), "tones.ready must be a number from -40 to 0, not 1"),
    (script_text(tones="tones: {bell: -3}\n"), "tones has no setting `bell`"),
    (script_text(tones="tones: quiet\n"), "tones: give levels in dB relative to the voice"),
])
def test_the_levels_limits_are_one_line_naming_the_file_and_line(write_script, text, message):
    path = write_script(text)
    with pytest.raises(VoicecoachError) as e:
        load_script(path)
    said = str(e.value)
    assert message in said and "\n" not in said and f"{path}:" in said, said


def test_the_stated_levels_are_under_the_voice_and_the_table_says_them():
    assert levels.MIN_LEVEL <= levels.KEEP_ALIVE < levels.READY < levels.CHIME <= levels.EARCON < 0
    assert -20 <= levels.KEEP_ALIVE <= -15
    table = levels.table()
    for value in (levels.KEEP_ALIVE, levels.READY, levels.CHIME, levels.EARCON):
        assert f"| {value:g} |" in table


def test_the_readme_table_of_levels_is_the_levels_the_tests_measure():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    stated = {key: float(level) for level, key in
              re.findall(r"^\| [^|]+ \| (-?\d+(?:\.\d+)?) \| [^|]*`tones\.(\w+)`", readme, re.MULTILINE)}
    assert stated == {"keep_alive": levels.KEEP_ALIVE, "ready": levels.READY, "chime": levels.CHIME,
                      "earcon": levels.EARCON}
