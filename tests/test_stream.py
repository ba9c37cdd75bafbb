"""Playing while rendering: on an engine slower than real time, cues still land exactly where the whole
timeline puts them, the player says when it holds, and skipping ahead to a section not yet rendered works."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from voicecoach.cache import Cache
from voicecoach.errors import VoicecoachError
from voicecoach.player.play import play_script
from voicecoach.player.player import Player
from voicecoach.player.terminal import status_text
from voicecoach.session import prepare, stream
from voicecoach.speech import engines
from voicecoach.testing import RecordingSink, SlowEngine
from voicecoach.units import SAMPLES_PER_MS

SCRIPT = """
voicecoach: 1
title: Streaming
steps:
  - section: Arriving
  - say: Let your shoulders soften.
  - pause: 1
  - say: Breathe out slowly, all the way.
  - squeeze: {reps: 2, hold: 3, rest: 2, count: true}
  - section: Middle
  - say: Notice the floor beneath you.
  - pause: 2
  - section: Closing
  - say: Rest here for a moment.
  - say: Well done for taking this time.
"""


@pytest.fixture
def slow(monkeypatch):
    """A registered engine that takes 0.4 s longer per phrase than espeak-ng: slower than the session plays."""
    engine = SlowEngine(0.4)
    monkeypatch.setitem(engines._engines(), "slow", engine)
    return engine


class Terminal(io.StringIO):
    def isatty(self):
        return True


def play_through(player: Player, sink: RecordingSink, *, until: float = 60, on_status=None) -> list[str]:
    """Poll the player to the end, the sink playing in real time's place; returns every state seen."""
    seen = []
    deadline = time.monotonic() + until
    player.start()
    while time.monotonic() < deadline:
        status = player.poll()
        seen.append(status.state)
        if on_status:
            on_status(status)
        if status.state == "done":
            return seen
        sink.advance(2400)          # 0.1 s of session per turn: faster than the slow engine renders
        time.sleep(0.01)
    raise AssertionError(f"not done in {until} s: {seen[-5:]}")


def test_streamed_play_is_sample_for_sample_the_whole_session_and_holds_when_behind(write_script, tmp_path, slow):
    path = write_script(SCRIPT)
    source = stream(path, Cache(tmp_path / "cache"), voice="slow").start()
    sink = RecordingSink()
    seen = play_through(Player(None, None, sink, source=source, waits=False), sink)
    source.close()
    whole = prepare(path, Cache(tmp_path / "cache"), voice="slow")
    assert whole.synthesised == 0                              # the stream cached every phrase
    assert np.array_equal(sink.samples(), whole.audio())       # every cue where the whole timeline puts it
    assert "holding" in seen and seen.index("holding") < seen.index("done")


def test_a_hold_is_announced_on_the_status_line(write_script, tmp_path, slow):
    path = write_script(SCRIPT)
    source = stream(path, Cache(tmp_path / "cache"), voice="slow").start()
    sink, lines = RecordingSink(), []
    play_through(Player(None, None, sink, source=source, waits=False), sink,
                 on_status=lambda s: lines.append(status_text(s, "Streaming", 100)))
    source.close()
    held = [line for line in lines if "Getting the next words ready" in line]
    assert held and all("/ ~" in line for line in held)        # while rendering, the length is an estimate
    assert "/ ~" not in lines[-1]


def test_skipping_to_a_section_not_yet_rendered_lands_on_its_first_sample(write_script, tmp_path, slow):
    path = write_script(SCRIPT)
    source = stream(path, Cache(tmp_path / "cache"), voice="slow").start()
    sink = RecordingSink()
    player = Player(None, None, sink, source=source, waits=False)
    player.start()
    player.next_section()           # to Middle, then Closing: neither is rendered yet
    player.poll()
    assert player.status().state == "holding"
    deadline = time.monotonic() + 60
    while player._pending_next is not None and time.monotonic() < deadline:
        player.poll()
        time.sleep(0.02)
    player.next_section()
    while player.poll().state != "done" and time.monotonic() < deadline:
        sink.advance(24_000)
        time.sleep(0.01)
    source.close()
    whole = prepare(path, Cache(tmp_path / "cache"), voice="slow")
    closing = whole.timeline.sections[2].start * SAMPLES_PER_MS
    heard = sink.samples()
    assert len(heard) > 0
    assert np.array_equal(heard[-(len(whole.audio()) - closing):], whole.audio()[closing:])


def test_a_cue_too_long_for_its_interval_is_refused_before_the_first_sound(write_script, tmp_path):
    path = write_script("""
        voicecoach: 1
        title: Too long
        steps:
          - say: Welcome.
          - squeeze: {reps: 1, hold: 1, rest: 1, tighten: "Now very gently, and slowly, tighten all of the muscles"}
    """)
    sink = RecordingSink(instant=True)
    with pytest.raises(VoicecoachError, match="takes .* to say"):
        play_script(path, Cache(tmp_path / "cache"), output=sink, stdin=io.StringIO(), stdout=io.StringIO())
    assert sink.writes == []


def test_the_first_sound_comes_before_the_rest_is_rendered(write_script, tmp_path, slow):
    path = write_script(SCRIPT)
    source = stream(path, Cache(tmp_path / "cache"), voice="slow").start()
    sink = RecordingSink()
    player = Player(None, None, sink, source=source, waits=False)
    player.start()
    deadline = time.monotonic() + 30
    while not sink.writes and time.monotonic() < deadline:
        player.poll()
        time.sleep(0.02)
    assert sink.writes and not source.finished       # sound while phrases are still being rendered
    source.close()


def test_hands_free_play_streams_too(write_script, tmp_path, slow):
    from voicecoach.handsfree import prepare_hands_free, stream_hands_free
    path = write_script(SCRIPT)
    source = stream_hands_free(path, Cache(tmp_path / "cache"), voice="slow", pre_roll_s=3).start()
    sink = RecordingSink()
    play_through(Player(None, None, sink, source=source, waits=False), sink)
    source.close()
    whole = prepare_hands_free(path, Cache(tmp_path / "cache"), voice="slow", pre_roll_s=3)
    assert np.array_equal(sink.samples(), whole.audio())


def test_play_says_it_is_getting_ready_on_a_cold_cache(write_script, tmp_path):
    path = write_script(SCRIPT)
    out = Terminal()
    play_script(path, Cache(tmp_path / "cache"), output=RecordingSink(instant=True), stdin=io.StringIO(), stdout=out)
    assert out.getvalue().startswith("Getting the voice ready (")
    again = Terminal()
    play_script(path, Cache(tmp_path / "cache"), output=RecordingSink(instant=True), stdin=io.StringIO(), stdout=again)
    assert again.getvalue().startswith("Playing: Streaming (")
