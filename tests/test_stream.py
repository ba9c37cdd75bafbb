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


# ---------------------------------------------------------------- lengths without rendering, progress


def test_list_on_an_empty_cache_synthesises_nothing_and_marks_estimates(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from voicecoach.cli import cli
    from voicecoach.speech import pool
    calls = []
    monkeypatch.setattr(pool, "render", lambda *a, **k: calls.append(a))
    cache = tmp_path / "cache"
    result = CliRunner().invoke(cli, ["--cache-dir", str(cache), "list"])
    assert result.exit_code == 0, result.output
    assert calls == [] and not cache.exists()
    assert "pelvic-floor-release.yaml" in result.output and "about 6 min" in result.output


def test_a_length_is_exact_once_its_phrases_are_cached_and_close_before(write_script, tmp_path):
    from voicecoach.session import known_length
    path = write_script(SCRIPT)
    cache = Cache(tmp_path / "cache")
    _, guessed = known_length(path, cache)
    whole = prepare(path, cache)
    _, known = known_length(path, cache)
    assert guessed.estimated and not known.estimated
    assert known.ms == whole.timeline.length
    assert guessed.ms == pytest.approx(whole.timeline.length, rel=0.25)


def test_show_renders_with_progress_on_a_terminal_only(write_script, tmp_path):
    import subprocess
    import sys

    import pexpect
    path = write_script(SCRIPT)
    command = [sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(tmp_path / "cache"), "show", str(path)]
    child = pexpect.spawn(command[0], command[1:], encoding="utf-8", timeout=120, dimensions=(24, 200))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Rendering phrase 1 of " in child.before and "Let your shoulders soften." in child.before
    piped = subprocess.run([*command[:4], str(tmp_path / "other"), *command[5:]], capture_output=True, text=True,
                           timeout=120)
    assert piped.returncode == 0 and piped.stderr == "" and "Rendering" not in piped.stdout


def test_time_left_follows_the_recent_rate_of_each_part_of_the_job():
    from voicecoach.cli.progressbar import TimeLeft
    eta = TimeLeft(window=3, settle=1)
    eta.add(0, 0.0, until=0.5)
    assert eta.seconds(0.5) is None                          # nothing measured yet
    for t in range(1, 11):                                   # rendering: 0.05 of the job a second
        eta.add(t, 0.05 * t, until=0.5)
    assert eta.seconds(10) == pytest.approx(0.0, abs=1e-9)   # the rendering part is done
    eta.add(10, 0.5)                                         # encoding: a new part, measured afresh
    assert eta.seconds(10) is None
    for k in range(1, 5):
        eta.add(10 + 0.5 * k, 0.5 + 0.1 * k)                 # 0.2 a second: 0.1 left takes 0.5 s
    assert eta.seconds(12) == pytest.approx(0.5)             # not the 10 s the rendering rate would say


@pytest.mark.slow
def test_a_bed_streams_under_the_voice_as_the_whole_session_has_it(write_script, tmp_path):
    path = write_script(SCRIPT)
    cache = Cache(tmp_path / "cache")
    whole = prepare(path, cache, background="waves")
    sink = RecordingSink(instant=True)
    play_script(path, cache, output=sink, stdin=io.StringIO(), stdout=io.StringIO(), background="waves")
    heard, expected = sink.samples().astype(np.int32), whole.audio().astype(np.int32)
    assert len(heard) == len(expected)
    # Every phrase was cached, so the bed is levelled against the same voice: the same samples, to rounding.
    assert np.abs(heard - expected).max() <= 1
    quiet = np.abs(expected[: 10 * 24_000]).max()
    assert quiet > 0                                            # the bed is there, under the voice


PLAIN = """
voicecoach: 1
title: Plain sentences
steps:
  - say: Welcome.
  - say: Let your shoulders soften and drop a little.
  - chime: {}
  - say: Notice where your body meets the surface below you.
  - say: There is no hurry. Take this at your own pace.
  - say: Let your jaw loosen, and your tongue rest.
"""


class LoggedEngine(SlowEngine):
    """espeak-ng that writes when each phrase starts and ends to `log` (from the worker, in order)."""

    def __init__(self, log):
        super().__init__(0.0)
        self.name = "logged"
        self.log = str(log)
        self.per_core = 2

    def synthesise(self, voice, text, timeout):
        with open(self.log, "a") as f:
            f.write(f"start {text}\n")
        time.sleep(0.2)       # long enough that a phrase started beside it would start before it ends
        done = super().synthesise(voice, text, timeout)
        with open(self.log, "a") as f:
            f.write(f"end {text}\n")
        return done


def logged_stream(path, tmp_path, monkeypatch):
    """(the engine's log, the script, its stream started) with LoggedEngine as the voice."""
    log = tmp_path / "order.log"
    monkeypatch.setitem(engines._engines(), "logged", LoggedEngine(log))
    return log, path, stream(path, Cache(tmp_path / "cache"), voice="logged").start()


def test_with_no_timed_cues_the_first_words_render_alone_and_are_ready_when_it_starts(write_script, tmp_path,
                                                                                      monkeypatch):
    log, path, source = logged_stream(write_script(PLAIN), tmp_path, monkeypatch)
    try:
        # Playable the moment start() returns: the first words are final, the rest still rendering.
        assert source.available() > 0 and "Welcome." in source.clips()
        assert source.timeline.cues[0].end * SAMPLES_PER_MS <= source.available()
    finally:
        source.close()
    lines = log.read_text().splitlines()
    # Nothing else took a core while the first words were rendered.
    assert lines[:2] == ["start Welcome.", "end Welcome."]


def test_a_plain_session_streamed_cold_has_its_tones_where_the_whole_session_does(write_script, tmp_path, slow):
    path = write_script(PLAIN)
    source = stream(path, Cache(tmp_path / "cache"), voice="slow").start()
    sink = RecordingSink()
    play_through(Player(None, None, sink, source=source, waits=False), sink)
    source.close()
    whole = prepare(path, Cache(tmp_path / "cache"), voice="slow")
    assert whole.synthesised == 0
    assert np.array_equal(sink.samples(), whole.audio())      # the chime at the level the whole session sets


def test_the_voice_the_tones_are_set_against_is_remembered_in_the_cache(tmp_path, monkeypatch):
    from voicecoach import stream as streaming
    from voicecoach.audio.mix import phrases_loudness
    cache = Cache(tmp_path / "cache")
    t = np.arange(24_000) / 24_000
    clips = {"a": (np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16),
             "b": (np.sin(2 * np.pi * 300 * t) * 3000).astype(np.int16)}
    first = streaming.reference_loudness(cache, clips, ["a", "b"])
    assert first == phrases_loudness(clips, ["a", "b"])

    def not_again(*args):
        raise AssertionError("worked out again")
    monkeypatch.setattr(streaming, "phrases_loudness", not_again)
    assert streaming.reference_loudness(cache, clips, ["a", "b"]) == first
    # Other samples under the same names are other phrases: worked out, not taken from the note.
    monkeypatch.undo()
    louder = {**clips, "b": clips["b"] * 2}
    assert streaming.reference_loudness(cache, louder, ["a", "b"]) == phrases_loudness(louder, ["a", "b"]) != first


TIMED = """
voicecoach: 1
title: Timed
steps:
  - say: Welcome.
  - chime: {}
  - breathe: {in: 4, out: 6, cycles: 2, cues: {in: Breathe in, out: And slowly out}}
  - say: Let your shoulders soften.
  - say: Notice the floor beneath you.
  - say: Let your jaw loosen.
  - squeeze: {reps: 1, hold: 3, rest: 5, count: true}
  - say: Well done.
"""


PUT_OFF = {"Breathe in", "And slowly out", "And let go"}


def test_timed_cues_with_room_to_spare_render_just_after_the_first_sound_and_tight_ones_before(write_script, tmp_path,
                                                                                                monkeypatch):
    log, path, source = logged_stream(write_script(TIMED), tmp_path, monkeypatch)
    try:
        known = set(source.clips())
        # The first words and the counted hold's words (a second each) are checked before the first sound;
        # the breath's cues (four and six seconds for two or three words) and the release (five) after it.
        assert {"Welcome.", "Tighten", "1", "2"} <= known
        assert not PUT_OFF & known
        assert source.available() > 0
        # The chime is set under the voice of the first words and every timed cue: not handed out before
        # those are known, so it sounds as the whole session has it.
        chime = next(c for c in source.timeline.cues if c.kind == "chime")
        assert source.available() <= chime.start * SAMPLES_PER_MS
        sink = RecordingSink()
        play_through(Player(None, None, sink, source=source, waits=False), sink)
    finally:
        source.close()
    started = [line[len("start "):] for line in log.read_text().splitlines() if line.startswith("start ")]
    assert set(started[:4]) == {"Welcome.", "Tighten", "1", "2"}
    # First of the rest (four workers take the first four at once): the cues that were put off, the release
    # among them though three sentences come before it, so a surprise among them is found at once.
    assert PUT_OFF <= set(started[4:8])
    whole = prepare(path, Cache(tmp_path / "cache"), voice="logged")
    assert whole.synthesised == 0
    assert np.array_equal(sink.samples(), whole.audio())


def test_a_put_off_cue_that_does_not_fit_after_all_stops_play_with_the_same_message(write_script, tmp_path,
                                                                                     monkeypatch):
    from voicecoach import stream as streaming
    monkeypatch.setattr(streaming, "surely_fits", lambda text, room, wpm: True)
    path = write_script("""
        voicecoach: 1
        title: Too long
        steps:
          - say: Welcome. Find a comfortable position, and let your breath settle.
          - squeeze: {reps: 1, hold: 1, rest: 1, tighten: "Now very gently, and slowly, tighten all of the muscles"}
    """)
    sink = RecordingSink(instant=True)
    with pytest.raises(VoicecoachError, match="takes .* to say"):
        play_script(path, Cache(tmp_path / "cache"), output=sink, stdin=io.StringIO(), stdout=io.StringIO())


@pytest.mark.parametrize("text, room, fits", [
    ("Breathe in", 4000, True), ("And slowly out", 6000, True), ("Tighten", 1000, False), ("3", 1000, False),
    ("Breathe in for 4", 8000, False),               # digits are read as words of their own
    ("Supercalifragilistic", 8000, False),           # a long word is not a short one
    ("Respire", 8000, True), ("息を吸って", 8000, False),
])
def test_a_cue_surely_fits_only_as_plain_words_with_three_times_their_estimate_to_spare(text, room, fits):
    from voicecoach.stream import surely_fits
    assert surely_fits(text, room, 140) is fits


@pytest.mark.parametrize("rate", [80, 140, 250])
def test_the_sure_fit_bounds_what_a_real_voice_takes(rate):
    from voicecoach.speech.pool import render
    from voicecoach.speech.voice import Voice
    from voicecoach.stream import SURE_FACTOR, SURE_SPARE_MS, estimate_ms
    lengths = {}
    # Rendered as sessions render (never in this process: an engine started here would stay in every fork).
    render(Voice(engine="pyttsx3", name=None, rate=rate, volume=1.0),
           ["Tighten", "Relax", "Breathe in", "And slowly out", "Breathe in together", "And hold softly"],
           lambda text, samples: lengths.update({text: len(samples) * 1000 / (SAMPLES_PER_MS * 1000)}))
    assert len(lengths) == 6
    for text, ms in lengths.items():
        assert ms <= estimate_ms(text, rate) * SURE_FACTOR + SURE_SPARE_MS
