"""A session for a file: waits in their file form, a ready tone at each wait's end, no silence over 30 s."""

import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.medium import (
    FILE_TIME,
    MAX_SILENCE_MS,
    READY_LEAD_MS,
    file_prompt,
    for_file,
    keep_alive,
    ready_tones,
)
from voicecoach.exercise.script import Wait, load_script, phrases
from voicecoach.exercise.timeline import Cue, Timeline, build_timeline

SCRIPT = """
voicecoach: 1
title: Waits
steps:
  - section: One
  - wait:
      say: "Rest it at the entrance. Press space when it is there."
      file: "Rest it at the entrance. There is time, and a soft tone tells you when we go on."
      timeout: 45
  - repeat: 2
    steps:
      - wait: {say: "Take your time. Press the space bar when you are ready.", timeout: 5}
  - pause: 65
  - say: Well done.
"""


def lengths(texts):
    return {t: 500 for t in texts}


def silences(timeline: Timeline) -> list[int]:
    heard, gaps = 0, []
    for c in sorted(timeline.cues, key=lambda c: c.start):
        gaps.append(c.start - heard)
        heard = max(heard, c.end)
    return gaps + [timeline.length - heard]


def test_a_file_says_the_file_form_and_never_asks_for_a_key(write_script):
    script = for_file(load_script(write_script(SCRIPT)))
    said = phrases(script.steps)
    assert said[0] == "Rest it at the entrance. There is time, and a soft tone tells you when we go on."
    assert said[1] == f"Take your time. {FILE_TIME}"           # no file form: the key sentence goes
    assert not [t for t in said if "press" in t.lower() or "space" in t.lower()]


def test_the_player_keeps_its_own_words(write_script):
    assert phrases(load_script(write_script(SCRIPT)).steps)[0] == "Rest it at the entrance. Press space when it is there."


def test_a_prompt_with_no_key_keeps_all_its_words():
    assert file_prompt(Wait("Take a moment to agree this.", 1000, 1)) == f"Take a moment to agree this. {FILE_TIME}"


def test_an_empty_file_form_is_an_error_at_its_line(write_script):
    with pytest.raises(VoicecoachError, match=r"test.yaml:7: wait.file is empty"):
        load_script(write_script(SCRIPT.replace('file: "Rest it at the entrance. There is time, and a soft tone '
                                                'tells you when we go on."', 'file: ""')))


def test_each_wait_ends_with_a_ready_tone_and_the_rhythm_is_unchanged(write_script):
    script = for_file(load_script(write_script(SCRIPT)))
    plain = build_timeline(script, lengths(phrases(script.steps)))
    timeline = ready_tones(plain)
    waits = [c for c in plain.cues if c.role == "wait"]
    tones = [c for c in timeline.cues if c.role == "ready"]
    assert len(tones) == len(waits) == 3
    for wait, tone in zip(waits, tones):
        assert tone.kind == "chime" and tone.end == wait.end + wait.wait - READY_LEAD_MS
        assert tone.start > wait.end
    assert [c for c in timeline.cues if c.role != "ready"] == list(plain.cues)   # every cue where it was
    assert timeline.length == plain.length and timeline.sections == plain.sections


@pytest.mark.parametrize("gap", [30_000, 30_001, 45_000, 65_000, 3_600_000])
def test_no_silence_lasts_longer_than_30_seconds(gap):
    say = Cue(0, 1000, "speech", "say", "Hello.", None, 3)
    then = Cue(1000 + gap, 1000, "speech", "say", "Again.", None, 4)
    timeline = Timeline("t", (say, then), (), 2000 + gap + gap)      # a long trailing silence too
    alive = keep_alive(timeline)
    assert max(silences(alive)) <= MAX_SILENCE_MS
    added = [c for c in alive.cues if c.role == "presence"]
    assert (gap > MAX_SILENCE_MS) == bool(added)
    assert [c for c in alive.cues if c.role != "presence"] == [say, then]


def test_a_short_session_gets_no_tones():
    timeline = Timeline("t", (Cue(0, 1000, "speech", "say", "Hi.", None, 1),), (), 20_000)
    assert keep_alive(timeline) == timeline
