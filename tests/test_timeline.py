"""The timing rules, checked on the timeline alone: no audio, durations given by hand."""

import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.exercise import timeline
from voicecoach.exercise.script import load_script, phrases
from voicecoach.exercise.timeline import build_timeline, cue_sheet

SCRIPT = """
voicecoach: 1
title: Timing
params: {hold: 5, rest: 7, reps: 2}
steps:
  - section: Start
  - say: Hello there.
  - pause: 1.5
  - squeeze: {hold: $hold, rest: $rest, reps: $reps, count: true, release: Soften}
  - section: Breath
  - breathe: {in: 4, hold: 2, out: 6, hold_out: 1, cycles: 2}
  - repeat: 2
    steps:
      - say: Again.
      - pause: 500ms
  - chime: {length: 2}
  - say: Done.
"""

# Invented spoken lengths (ms): the rules must hold for any voice speed.
DURATIONS = {"Hello there.": 1234, "Tighten": 480, "1": 300, "2": 310, "3": 290, "4": 320,
             "Soften": 650, "Breathe in": 700, "Hold": 400, "And out": 550, "Again.": 333, "Done.": 250}


def starts(timeline, role=None):
    return [c.start for c in timeline.cues if role is None or c.role == role]


def test_every_cue_starts_at_the_millisecond_the_rules_give(write_script):
    script = load_script(write_script(SCRIPT))
    assert set(phrases(script.steps)) == set(DURATIONS)
    tl = build_timeline(script, DURATIONS)

    t = 1234 + 1500                      # say ends, then the pause
    squeeze = t
    assert starts(tl, "tighten") == [squeeze, squeeze + 12_000]
    assert starts(tl, "release") == [squeeze + 5000, squeeze + 17_000]
    # counted at whole seconds strictly inside the 5 s hold: 1..4
    assert starts(tl, "count") == [squeeze + k * 1000 for k in (1, 2, 3, 4)] + \
                                  [squeeze + 12_000 + k * 1000 for k in (1, 2, 3, 4)]
    assert [c.text for c in tl.cues if c.role == "count"][:4] == ["1", "2", "3", "4"]

    breathe = squeeze + 2 * 12_000
    cycle = 4000 + 2000 + 6000 + 1000
    assert starts(tl, "in") == [breathe, breathe + cycle]
    assert starts(tl, "out") == [breathe + 6000, breathe + cycle + 6000]
    # Both holds say "Hold"; the role tells which phase it is.
    assert starts(tl, "hold") == [breathe + 4000, breathe + cycle + 4000]
    assert starts(tl, "hold_out") == [breathe + 12_000, breathe + cycle + 12_000]

    repeat = breathe + 2 * cycle
    assert starts(tl, "say")[1:3] == [repeat, repeat + 333 + 500]
    chime = repeat + 2 * (333 + 500)
    assert starts(tl, "chime") == [chime]
    assert starts(tl, "say")[-1] == chime + 2000
    assert tl.length == chime + 2000 + 250

    assert [(m.name, m.start) for m in tl.sections] == [("Start", 0), ("Breath", breathe)]
    assert tl.cues[0].section == 0 and tl.cues[-1].section == 1


def test_timing_does_not_depend_on_the_voice_speed(write_script):
    script = load_script(write_script(SCRIPT))
    slow = {k: min(v * 2, 900) for k, v in DURATIONS.items()}
    slow["Hello there."] = 4000
    a, b = build_timeline(script, DURATIONS), build_timeline(script, slow)
    # Only the say before it moves the squeeze; inside a step every offset is the same.
    shift = 4000 - 1234
    pairs = [(x.start, y.start) for x, y in zip(a.cues, b.cues) if x.role in ("tighten", "release", "count", "in", "out")]
    assert all(y - x == shift for x, y in pairs)


def test_override_changes_the_hold(write_script):
    script = load_script(write_script(SCRIPT), {"hold": 8})
    tl = build_timeline(script, DURATIONS | {str(k): 300 for k in range(1, 8)})
    t = starts(tl, "tighten")[0]
    assert starts(tl, "release")[0] == t + 8000
    assert len([c for c in tl.cues if c.role == "count"]) == 2 * 7


@pytest.mark.parametrize("slow_phrase, room", [("Soften", "squeeze.rest"), ("Tighten", "first second"),
                                                ("And out", "breathe.out")])
def test_a_cue_longer_than_its_interval_names_the_line(write_script, slow_phrase, room):
    path = write_script(SCRIPT)
    script = load_script(path)
    durations = dict(DURATIONS)
    durations[slow_phrase] = 8000
    with pytest.raises(VoicecoachError) as e:
        build_timeline(script, durations)
    line = {"Soften": 8, "Tighten": 8, "And out": 10}[slow_phrase]
    assert str(e.value).startswith(f"{path}:{line}: ")
    assert room in str(e.value)


def test_the_last_count_must_end_before_the_release(write_script):
    path = write_script("""
        voicecoach: 1
        title: T
        steps:
          - squeeze: {hold: 2.5, rest: 3, count: true}
        """)
    script = load_script(path)
    ok = build_timeline(script, {"Tighten": 900, "1": 500, "2": 500, "And let go": 900})
    assert starts(ok, "count") == [1000, 2000]
    with pytest.raises(VoicecoachError, match=r":4: .*'2'"):
        build_timeline(script, {"Tighten": 900, "1": 500, "2": 600, "And let go": 900})


def test_breath_presets(write_script):
    script = load_script(write_script("""
        voicecoach: 1
        title: Presets
        steps:
          - breathe: box
          - breathe: 4-7-8
          - breathe: {pattern: "4-6", cycles: 2}
        """))
    tl = build_timeline(script, {"Breathe in": 500, "Hold": 400, "And out": 500})
    ins = starts(tl, "in")
    assert ins[:2] == [0, 16_000]                       # box: 4+4+4+4, four cycles by default
    assert ins[4:6] == [64_000, 64_000 + 19_000]        # 4-7-8
    assert ins[8:] == [64_000 + 4 * 19_000, 64_000 + 4 * 19_000 + 10_000]
    assert tl.length == 64_000 + 4 * 19_000 + 2 * 10_000


def test_sessions_longer_than_twelve_hours_are_refused_without_expanding(write_script):
    path = write_script("""
        voicecoach: 1
        title: Forever
        steps:
          - repeat: 10000
            steps:
              - repeat: 10000
                steps:
                  - pause: 1
        """)
    with pytest.raises(VoicecoachError, match=r"test.yaml:4: .*12 hours"):
        build_timeline(load_script(path), {})


def test_json_and_text_views_agree(write_script):
    tl = build_timeline(load_script(write_script(SCRIPT)), DURATIONS)
    data = tl.to_dict()
    assert [round(c["start"] * 1000) for c in data["cues"]] == [c.start for c in tl.cues]
    assert data["length"] * 1000 == tl.length
    assert data["cues"][0] == {"kind": "speech", "role": "say", "text": "Hello there.", "line": 6,
                               "start": 0.0, "end": 1.234, "section": "Start"}
    text = cue_sheet(tl)
    assert "0:02.734  tighten  Tighten" in text and "== Breath ==" in text


def test_the_cue_sheet_keeps_its_columns_past_ten_minutes_and_past_an_hour(write_script):
    script = load_script(write_script("""
voicecoach: 1
title: Long
steps:
  - section: Start
  - say: Hello.
  - pause: 700
  - say: Ten minutes on.
  - pause: 3000
  - section: Later
  - say: Past the hour.
"""))
    tl = build_timeline(script, {text: 1000 for text in phrases(script.steps)})
    lines = [line for line in cue_sheet(tl).splitlines()[1:] if line.strip()]
    # The times are right-aligned to the longest (the end, past an hour): every role starts in one column.
    columns = {line.index("  ") + 2 for line in lines if not line.startswith(" ")} | \
              {len(line) - len(line.lstrip()) + line.lstrip().index("  ") + 2 for line in lines}
    assert len(columns) == 1, cue_sheet(tl)
    assert lines[-1].endswith("end") and lines[-1].startswith("1:")


def test_rooms_give_each_timed_cue_the_least_time_it_has_anywhere(write_script):
    path = write_script("""
        voicecoach: 1
        title: T
        steps:
          - say: Welcome.
          - squeeze: {hold: 2.5, rest: 6, count: true}
          - repeat: 2
            steps:
              - breathe: {in: 4, out: 6, cycles: 1, cues: {in: Breathe in, out: And let go}}
          - squeeze: {hold: 5, rest: 3, tighten: Tighten}
        """)
    rooms = timeline.rooms(load_script(path))
    # The counted hold gives "Tighten" and "1" a second each and the last count what is left; the plain
    # hold gives "Tighten" five seconds, but its least room is the one that counts. "And let go" is a
    # breath's out (6 s) and a release (3 s and 6 s). A say is not timed.
    assert rooms == {"Tighten": 1000, "1": 1000, "2": 500, "And let go": 3000, "Breathe in": 4000}
