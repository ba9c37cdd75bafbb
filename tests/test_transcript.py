"""The WebVTT transcript: one cue per spoken line at the timeline's exact times, readable by ffmpeg."""

import json
import re
import subprocess

import pytest

from voicecoach.exercise.timeline import Cue, Mark, Timeline
from voicecoach.exercise.transcript import webvtt
from voicecoach.session import prepare
from voicecoach.units import timestamp

SCRIPT = """
voicecoach: 1
title: Read along
steps:
  - section: First part
  - say: Settle in, when you feel ready.
  - pause: 1
  - squeeze: {hold: 3, rest: 2, reps: 1, count: true}
  - section: Second <part> & more
  - breathe: {in: 3, out: 4, cycles: 1}
  - chime: {}
  - say: That is all for now.
"""

CUE = re.compile(r"^(\d+)\n(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)\n(.+)$", re.M)


def parse(text):
    """(number, start ms, end ms, text) of every cue in a WebVTT text."""
    def ms(h, m, s, t):
        return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(t)
    return [(int(g[0]), ms(*g[1:5]), ms(*g[5:9]), g[9]) for g in CUE.findall(text)]


@pytest.fixture(scope="module")
def session(tmp_path_factory, shared_cache):
    path = tmp_path_factory.mktemp("transcript") / "read.yaml"
    path.write_text(SCRIPT.lstrip(), encoding="utf-8")
    return prepare(path, shared_cache)


def test_cue_times_equal_the_timeline(session):
    text = webvtt(session.timeline)
    assert text.startswith("WEBVTT\n\n")
    spoken = [c for c in session.timeline.cues if c.kind == "speech"]
    cues = parse(text)
    assert [n for n, *_ in cues] == list(range(1, len(spoken) + 1))
    assert [(start, end) for _, start, end, _ in cues] == [(c.start, c.end) for c in spoken]
    assert [t for *_, t in cues] == [c.text for c in spoken]
    assert "chime" not in text.lower()


def test_sections_are_notes_and_reserved_characters_are_escaped(session):
    text = webvtt(session.timeline)
    assert "NOTE First part" in text and "NOTE Second &lt;part&gt; &amp; more" not in text
    assert "NOTE Second <part> & more" in text       # notes are comments, not cue text
    assert text.index("NOTE First part") < text.index("Settle in") < text.index("NOTE Second")
    assert "NOTE" not in webvtt(session.timeline, sections=False)


def test_cue_text_escaping_and_long_sessions():
    cues = (Cue(0, 1500, "speech", "say", "Less <than> & more --> here", None, 1),
            Cue(3 * 3_600_000 + 61_001, 999, "speech", "say", "Late", None, 2),
            Cue(5000, 800, "chime", "chime", None, None, 3))
    text = webvtt(Timeline("T", cues, (Mark("Only", 0, 1),), 4 * 3_600_000))
    assert "Less &lt;than&gt; &amp; more --&gt; here" in text
    assert "03:01:01.001 --> 03:01:02.000" in text
    assert timestamp(0) == "00:00:00.000" and timestamp(3_723_004) == "01:02:03.004"


@pytest.mark.slow
def test_ffmpeg_reads_the_same_times(session, tmp_path):
    path = tmp_path / "read.vtt"
    path.write_text(webvtt(session.timeline), encoding="utf-8")
    out = subprocess.run(["ffprobe", "-v", "error", "-show_packets", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    packets = json.loads(out)["packets"]
    spoken = [c for c in session.timeline.cues if c.kind == "speech"]
    assert [(int(p["pts"]), int(p["duration"])) for p in packets] == [(c.start, c.length) for c in spoken]
