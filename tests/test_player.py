"""The player's logic with the recording sink: exact pause and resume, seeking by section, waits."""

import numpy as np
import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.timeline import section_index, starting_at
from voicecoach.player.player import AGAIN_MS, Player
from voicecoach.session import prepare
from voicecoach.testing import RecordingSink
from voicecoach.units import SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: Player test
steps:
  - section: Arriving
  - say: Settle in.
  - pause: 3
  - section: Squeezing
  - squeeze: {hold: 2, rest: 3, reps: 2}
  - section: Ready
  - wait: {say: "Take your time.", timeout: 5}
  - say: Going on now.
  - section: Closing
  - say: Well done.
  - pause: 1
"""


class ManualClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def session(write_script, shared_cache):
    return prepare(write_script(SCRIPT), shared_cache)


def make(session, waits=True, start_ms=0):
    sink, clock = RecordingSink(), ManualClock()
    audio = session.audio()
    player = Player(session.timeline, audio, sink, waits=waits, start_ms=start_ms, clock=clock)
    return player, sink, clock, audio


def first_sample(session, name):
    return session.timeline.sections[section_index(session.timeline, name)].start * SAMPLES_PER_MS


def test_pause_at_t_and_resume_plays_from_t(session):
    player, sink, _, audio = make(session, waits=False)
    player.start()
    t = len(audio) // 3 + 7           # not on a millisecond boundary
    sink.advance(t)
    player.toggle_pause()
    assert player.status().state == "paused"
    assert player.position() == t
    assert sink.advance(10 * SAMPLES_PER_MS * 1000) == 0      # paused: nothing more is played
    player.toggle_pause()
    assert np.array_equal(sink.writes[-1], audio[t:])
    sink.advance(len(audio))
    assert player.poll().state == "done"
    assert np.array_equal(sink.samples(), audio)            # nothing skipped, nothing twice


def test_next_lands_on_the_first_sample_of_the_next_section(session):
    player, sink, _, audio = make(session, waits=False)
    player.start()
    sink.advance(SAMPLES_PER_MS * 500)
    player.next_section()
    start = first_sample(session, "Squeezing")
    assert player.position() == start
    assert np.array_equal(sink.writes[-1], audio[start:])
    sink.advance(10)
    assert np.array_equal(sink.samples()[-10:], audio[start:start + 10])


def test_previous_goes_to_this_section_then_the_one_before(session):
    player, sink, _, audio = make(session, waits=False)
    player.start()
    squeezing = first_sample(session, "Squeezing")
    sink.advance(squeezing + (AGAIN_MS + 1500) * SAMPLES_PER_MS)
    player.previous_section()
    assert np.array_equal(sink.writes[-1], audio[squeezing:])
    player.previous_section()                 # again, right at its start: the section before
    assert player.position() == 0
    assert np.array_equal(sink.writes[-1], audio)


def test_next_in_the_last_section_ends_and_seeking_while_paused_stays_paused(session):
    player, sink, _, audio = make(session, waits=False)
    player.start()
    player.toggle_pause()
    player.next_section()
    assert player.status().state == "paused"
    assert player.position() == first_sample(session, "Squeezing")
    player.toggle_pause()
    assert np.array_equal(sink.writes[-1], audio[first_sample(session, "Squeezing"):])
    for _ in session.timeline.sections:
        player.next_section()
    assert player.poll().state == "done"


def test_start_ms_begins_at_a_section(session):
    start = first_sample(session, "Closing")
    player, sink, _, audio = make(session, start_ms=start // SAMPLES_PER_MS)
    player.start()
    assert np.array_equal(sink.writes[0], audio[start:])


def wait_cue(session):
    return next(c for c in session.timeline.cues if c.role == "wait")


def play_to_the_wait(session):
    player, sink, clock, audio = make(session)
    player.start()
    cue = wait_cue(session)
    assert len(sink.writes[0]) == cue.end * SAMPLES_PER_MS      # the first write stops after the prompt
    sink.advance(len(audio))
    assert player.poll().state == "waiting"
    return player, sink, clock, audio, cue


def test_a_wait_holds_until_a_key(session):
    player, sink, clock, audio, cue = play_to_the_wait(session)
    clock.now += cue.wait / 1000 - 0.01
    status = player.poll()
    assert status.state == "waiting" and len(sink.writes) == 1 and 0 < status.wait_left <= 10
    player.toggle_pause()                  # space: ready to go on
    resume = (cue.end + cue.wait) * SAMPLES_PER_MS
    assert np.array_equal(sink.writes[-1], audio[resume:])
    assert player.poll().state == "playing"


def test_a_wait_holds_until_its_timeout(session):
    player, sink, clock, audio, cue = play_to_the_wait(session)
    clock.now += cue.wait / 1000 / 2
    assert player.poll().state == "waiting" and len(sink.writes) == 1
    assert player.position() == (cue.end + cue.wait // 2) * SAMPLES_PER_MS   # the clock moves on in silence
    clock.now += cue.wait / 1000 / 2
    assert player.poll().state == "playing"
    assert np.array_equal(sink.writes[-1], audio[(cue.end + cue.wait) * SAMPLES_PER_MS:])
    sink.advance(len(audio))
    assert player.poll().state == "done"
    # What was heard is the session with the wait's silence left out, and nothing else changed.
    expected = np.concatenate([audio[:cue.end * SAMPLES_PER_MS], audio[(cue.end + cue.wait) * SAMPLES_PER_MS:]])
    assert np.array_equal(sink.samples(), expected)


def test_without_waits_the_timeout_is_played_as_silence(session):
    player, sink, _, audio = make(session, waits=False)
    player.start()
    sink.advance(len(audio))
    assert player.poll().state == "done"
    assert len(sink.writes) == 1 and np.array_equal(sink.samples(), audio)


def test_status_names_section_and_cue(session):
    player, sink, _, _ = make(session, waits=False)
    player.start()
    tighten = next(c for c in session.timeline.cues if c.role == "tighten")
    sink.advance((tighten.start + 10) * SAMPLES_PER_MS)
    status = player.poll()
    assert (status.state, status.section, status.cue) == ("playing", "Squeezing", tighten.text)
    assert status.position == tighten.start + 10 and status.length == session.timeline.length


def test_starting_at_a_section_shifts_everything(session):
    full = session.timeline
    i = section_index(full, "  ready ")
    part = starting_at(full, i)
    t0 = full.sections[i].start
    assert part.length == full.length - t0 and part.sections[0].start == 0
    later = [c for c in full.cues if c.start >= t0]
    assert [c.start for c in part.cues] == [c.start - t0 for c in later]
    assert [part.sections[c.section].name for c in part.cues] == [full.sections[c.section].name for c in later]


def test_an_unknown_section_names_the_ones_there_are(session):
    with pytest.raises(VoicecoachError, match="no section 'Nope'.*'Arriving', 'Squeezing'"):
        section_index(session.timeline, "Nope")
