"""A session for a file: waits in their file form, a ready tone at each wait's end, no silence over 30 s."""

import re

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


QUIET = """
voicecoach: 1
title: Quiet times
steps:
  - section: Talk
  - say: Settle in.
  - pause: 65
  - section: Together
    keep_alive: false
  - say: Take this time together.
  - pause: 65
  - section: Closing
  - say: Well done.
  - pause: 65
"""


def presence_sections(session) -> list[str]:
    t = session.timeline
    return [t.sections[c.section].name for c in t.cues if c.role == "presence"]


def test_a_section_can_ask_for_silence_and_the_rest_keeps_its_tones(write_script, shared_cache):
    from voicecoach.session import prepare
    path = write_script(QUIET)
    heard = presence_sections(prepare(path, shared_cache, for_file=True))
    assert "Together" not in heard and {"Talk", "Closing"} <= set(heard)
    # --keep-alive asks for them everywhere; --no-keep-alive, nowhere.
    assert "Together" in presence_sections(prepare(path, shared_cache, for_file=True, keep_alive=True))
    assert presence_sections(prepare(path, shared_cache, for_file=True, keep_alive=False)) == []


def test_a_script_can_turn_them_off_and_a_section_back_on(write_script, shared_cache):
    from voicecoach.session import prepare
    body = QUIET.replace("title: Quiet times", "title: Quiet times\nkeep_alive: false").replace(
        "  - section: Closing", "  - section: Closing\n    keep_alive: true")
    assert set(presence_sections(prepare(write_script(body), shared_cache, for_file=True))) == {"Closing"}


def test_a_bed_stands_in_for_the_tones_unless_they_are_asked_for(write_script, shared_cache):
    from voicecoach.session import prepare
    path = write_script(QUIET)
    assert presence_sections(prepare(path, shared_cache, for_file=True, background="brown")) == []
    asked = path.read_text().replace("title: Quiet times", "title: Quiet times\nkeep_alive: true")
    again = write_script(asked, name="asked.yaml")
    assert "Talk" in presence_sections(prepare(again, shared_cache, for_file=True, background="brown"))


def test_hands_free_follows_the_same_choice(write_script, shared_cache):
    from voicecoach.handsfree import prepare_hands_free
    path = write_script(QUIET)
    heard = presence_sections(prepare_hands_free(path, shared_cache, pre_roll_s=2))
    assert "Together" not in heard and "Talk" in heard
    assert presence_sections(prepare_hands_free(path, shared_cache, pre_roll_s=2, keep_alive=False)) == []


def test_sensate_focus_is_quiet_while_you_touch_unless_asked(shared_cache):
    from voicecoach import paths
    from voicecoach.session import prepare
    path = paths.scripts_dir() / "sensate-focus.yaml"
    quiet = ("One of you touches", "Swap over")
    assert not set(presence_sections(prepare(path, shared_cache, for_file=True))) & set(quiet)
    assert set(quiet) <= set(presence_sections(prepare(path, shared_cache, for_file=True, keep_alive=True)))


@pytest.mark.parametrize("body, line, says", [
    ("keep_alive: maybe\n", 3, "keep_alive must be true or false, not 'maybe'"),
    ("steps:\n  - section: A\n    keep_alive: 3\n  - say: Hi.\n", 5, "keep_alive must be true or false, not 3"),
    ("steps:\n  - say: Hi.\n    keep_alive: false\n", 5, "`keep_alive` does not belong with a `say` step"),
])
def test_a_wrong_keep_alive_is_one_line_at_its_line(write_script, body, line, says):
    text = "voicecoach: 1\ntitle: T\n" + (body if body.startswith("steps") else body + "steps:\n  - say: Hi.\n")
    path = write_script(text)
    with pytest.raises(VoicecoachError, match=re.escape(says)) as e:
        load_script(path)
    assert str(e.value).startswith(f"{path}:{line}:"), str(e.value)
