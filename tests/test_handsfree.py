"""Hands-free: the pre-roll, an earcon before every phase cue (checked on rendered samples), a slower, louder voice."""

import numpy as np
import pytest

from voicecoach import handsfree
from voicecoach.audio.tones import fall, rise
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.medium import for_file
from voicecoach.exercise.script import load_script
from voicecoach.exercise.timeline import build_timeline
from voicecoach.handsfree import (
    EARCON_GAP_MS,
    EARCON_MS,
    FALLING,
    MIN_EARCON_MS,
    RISING,
    earcon_samples,
    hands_free_timeline,
    normalise,
    pre_roll_text,
    prepare_hands_free,
)
from voicecoach.session import prepare
from voicecoach.units import SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: Shower
steps:
  - section: Breathing
  - say: Let your shoulders drop.
  - breathe: {in: 3, hold: 1, out: 4, cycles: 2}
  - section: Squeezing
  - squeeze: {hold: 3, rest: 4, reps: 2, count: true}
  - wait: {say: "Take your time.", timeout: 3}
  - say: Well done.
"""

PHASES = RISING | FALLING


@pytest.fixture(scope="module")
def shower(tmp_path_factory, shared_cache):
    path = tmp_path_factory.mktemp("hf") / "shower.yaml"
    path.write_text(SCRIPT.lstrip())
    return path, prepare_hands_free(path, shared_cache, pre_roll_s=5), prepare(path, shared_cache)


def span(audio, start_ms, length_ms):
    return audio[start_ms * SAMPLES_PER_MS:(start_ms + length_ms) * SAMPLES_PER_MS]


def test_rendered_audio_opens_with_the_pre_roll_then_silence_until_the_session(shower):
    _, session, _ = shower
    audio = session.audio()
    first = session.timeline.cues[0]
    assert (first.start, first.role, first.text) == (0, "pre-roll", "Starting in 5 seconds.")
    clip = session.clips[first.text]
    assert np.array_equal(audio[:len(clip)], clip)
    nxt = session.timeline.cues[1]
    assert nxt.start >= 5000 - EARCON_GAP_MS - EARCON_MS
    assert not audio[len(clip):nxt.start * SAMPLES_PER_MS].any()


def test_every_phase_cue_in_the_rendered_audio_is_preceded_by_its_earcon(shower):
    _, session, _ = shower
    audio = session.audio()
    cues = session.timeline.cues
    phases = [i for i, c in enumerate(cues) if c.role in PHASES]
    assert len(phases) == 2 * 2 + 2 * 2          # in/out per breath, tighten/release per squeeze
    for i in phases:
        cue, earcon = cues[i], cues[i - 1]
        assert earcon.kind == "earcon" and earcon.end == cue.start - EARCON_GAP_MS
        assert earcon.text.startswith("(rise" if cue.role in RISING else "(fall")
        expected = session.clips[earcon.text]
        assert np.array_equal(span(audio, earcon.start, earcon.length), expected)
        assert not span(audio, earcon.end, EARCON_GAP_MS).any()        # then a moment of quiet
        clip = session.clips[cue.text]
        assert np.array_equal(audio[cue.start * SAMPLES_PER_MS:][:len(clip)], clip)   # then the cue, on time
    assert sum(c.kind == "earcon" for c in cues) == len(phases)


def test_the_session_keeps_its_rhythm_shifted_by_the_pre_roll(shower):
    _, session, _ = shower
    path, _, _ = shower
    # The same script laid out with the hands-free voice's own phrase lengths, without the extras.
    durations = {t: -(-len(s) // SAMPLES_PER_MS) for t, s in session.clips.items()}
    plain = build_timeline(for_file(load_script(path)), durations)
    spoken = [c for c in session.timeline.cues if c.kind != "earcon" and c.role not in ("pre-roll", "ready")]
    shifts = [new.start - old.start for new, old in zip(spoken, plain.cues)]
    assert len(spoken) == len(plain.cues) and shifts[0] >= 5000
    assert shifts == sorted(shifts)                       # time is only ever added, never taken
    squeeze = [s for s, c in zip(shifts, plain.cues) if c.section == 1]
    assert len(set(squeeze)) == 1                         # inside the squeezes nothing moved
    assert session.timeline.length == plain.length + shifts[-1]


def test_voice_is_slower_and_louder(shower):
    _, session, plain = shower
    assert session.voice.rate == round(plain.voice.rate * handsfree.RATE_FACTOR)
    assert session.voice.volume == 1.0
    text = "Let your shoulders drop."
    assert len(session.clips[text]) > len(plain.clips[text])                # slower
    rms = lambda x: float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))     # noqa: E731
    assert rms(session.clips[text]) > rms(plain.clips[text])               # louder


def test_from_a_section_in_hands_free(shower, shared_cache):
    path, _, _ = shower
    session = prepare_hands_free(path, shared_cache, pre_roll_s=4, section="squeezing")
    assert [s.name for s in session.timeline.sections] == ["Squeezing"]
    assert session.timeline.cues[0].text == "Starting in 4 seconds."
    assert session.timeline.cues[1].kind == "earcon"
    assert session.timeline.sections[0].start == session.timeline.cues[1].start   # the tone is in its section


def test_an_earcon_gets_room_when_a_phase_follows_speech_at_once():
    from voicecoach.exercise.timeline import Cue, Mark, Timeline
    t = Timeline("x", (Cue(0, 2000, "speech", "say", "Hello.", 0, 3),
                       Cue(2000, 800, "speech", "in", "Breathe in.", 0, 4),
                       Cue(6000, 800, "speech", "out", "And out.", 1, 5)),
                 (Mark("A", 0, 2), Mark("B", 6000, 5)), 10000)
    out = hands_free_timeline(t, pre_roll_ms=3000, pre_roll="Soon.", pre_roll_length=900)
    starts = [(c.role, c.start, c.length) for c in out.cues]
    extra = EARCON_MS + EARCON_GAP_MS        # "in" had no room: that much silence was added before it
    assert starts == [("pre-roll", 0, 900), ("say", 3000, 2000),
                      ("earcon", 5000, EARCON_MS), ("in", 5000 + extra, 800),
                      ("earcon", 9000 + extra - EARCON_GAP_MS - EARCON_MS, EARCON_MS), ("out", 9000 + extra, 800)]
    assert [s.start for s in out.sections] == [3000, 9000 + extra - EARCON_GAP_MS - EARCON_MS]
    assert out.length == 13000 + extra


def test_a_tight_spot_gets_a_shorter_earcon_not_a_later_cue():
    from voicecoach.exercise.timeline import Cue, Mark, Timeline
    room = MIN_EARCON_MS + 30
    t = Timeline("x", (Cue(0, 1000 - EARCON_GAP_MS - room, "speech", "count", "4", 0, 3),
                       Cue(1000, 500, "speech", "release", "Let go.", 0, 3)), (Mark("A", 0, 2),), 3000)
    out = hands_free_timeline(t, pre_roll_ms=0, pre_roll=None, pre_roll_length=0)
    assert [(c.role, c.start, c.length) for c in out.cues] == [
        ("count", 0, 1000 - EARCON_GAP_MS - room), ("earcon", 1000 - EARCON_GAP_MS - room, room), ("release", 1000, 500)]
    shape = fall(room).astype(np.float64)
    made = earcon_samples(out.cues[1]).astype(np.float64)
    assert len(made) == len(shape) and np.corrcoef(made, shape)[0, 1] > 0.9999    # the falling glide, at its level


def test_a_pre_roll_too_short_to_announce_is_refused():
    from voicecoach.exercise.timeline import Timeline
    with pytest.raises(VoicecoachError, match="too short to say 'Starting in 1 second.'"):
        hands_free_timeline(Timeline("x", (), (), 0), pre_roll_ms=1000, pre_roll=pre_roll_text(1),
                            pre_roll_length=1400)


def test_the_two_earcons_glide_opposite_ways():
    def pitch(x):
        spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
        return np.argmax(spectrum) * 24000 / len(x)
    up, down = rise(), fall()
    half = len(up) // 2
    assert pitch(up[:half]) < pitch(up[half:]) and pitch(down[:half]) > pitch(down[half:])
    assert up[0] == 0 and up[-1] == 0 and np.abs(up).max() < 0.35 * 32767     # soft, no click


def test_normalise_evens_loudness_and_never_clips():
    quiet = (np.sin(np.arange(24000) / 5) * 2000).astype(np.int16)
    loud = (np.sin(np.arange(24000) / 5) * 30000).astype(np.int16)
    a, b = normalise(quiet), normalise(loud)
    assert abs(int(np.abs(a).max()) - int(np.abs(b).max())) < 0.05 * np.abs(b).max()
    assert np.abs(a).max() > 4 * np.abs(quiet).max()                  # the quiet one made louder
    assert np.abs(b).max() <= handsfree.PEAK * 32767 + 1
    assert not normalise(np.zeros(10, dtype=np.int16)).any()
