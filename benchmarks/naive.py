"""The naive baseline: the obvious code a user would write with pyttsx3 and pydub.

One `save_to_file` + `runAndWait` per cue (waiting for the file to be complete, since
`runAndWait` can return before espeak-ng has written it), then `session += ...` for every
cue and every silence. It reads the same script with voicecoach's loader so both play the
same steps; everything after parsing is the naive code.
"""

from __future__ import annotations

import os
import struct
import sys
import tempfile
import time
from pathlib import Path

from pydub import AudioSegment
from pydub.generators import Sine

from voicecoach.exercise.script import (
    Breathe,
    Chime,
    Pause,
    Repeat,
    Say,
    Section,
    Squeeze,
    Wait,
    count_limit,
    load_script,
)

FILE_TIMEOUT = 30.0


class Speaker:
    """One pyttsx3 engine, one file per spoken cue."""

    def __init__(self, folder: Path, rate: int = 140):
        import pyttsx3
        self.engine = pyttsx3.init("espeak") if sys.platform.startswith("linux") else pyttsx3.init()
        self.engine.setProperty("rate", rate)
        self.folder = folder
        self.n = 0

    def speak(self, text: str) -> AudioSegment:
        self.n += 1
        path = str(self.folder / f"cue-{self.n}.wav")
        self.engine.save_to_file(text, path)
        self.engine.runAndWait()
        wait_for_wav(path)
        segment = AudioSegment.from_wav(path)
        os.unlink(path)
        return segment


def wait_for_wav(path: str) -> None:
    """Poll until the WAV's header says its data is all there (pyttsx3 #149)."""
    deadline = time.monotonic() + FILE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                head = f.read(44)
                size = os.fstat(f.fileno()).st_size
            if len(head) == 44 and struct.unpack_from("<I", head, 40)[0] + 44 == size:
                return
        except FileNotFoundError:
            pass
        time.sleep(0.002)
    raise TimeoutError(f"pyttsx3 did not write {path}")


def build(script_path: Path, folder: Path) -> AudioSegment:
    """The whole session as one AudioSegment, built by appending."""
    script = load_script(script_path)
    speaker = Speaker(folder, script.voice.rate or 140)
    session = AudioSegment.empty()

    def silence(ms):
        return AudioSegment.silent(duration=max(0, ms), frame_rate=22050)

    def spoken(text, slot=None):
        nonlocal session
        clip = speaker.speak(text)
        session += clip
        if slot is not None:
            session += silence(slot - len(clip))

    def walk(steps):
        nonlocal session
        for s in steps:
            if isinstance(s, Say):
                spoken(s.text)
            elif isinstance(s, Pause):
                session += silence(s.ms)
            elif isinstance(s, Chime):
                session += Sine(s.pitch, sample_rate=22050).to_audio_segment(duration=s.ms, volume=-12).set_channels(1).set_sample_width(2)
            elif isinstance(s, Wait):
                spoken(s.text)
                session += silence(s.timeout_ms)
            elif isinstance(s, Squeeze):
                counted = count_limit(s.hold_ms) if s.count else 0
                for _ in range(s.reps):
                    spoken(s.tighten, 1000 if counted else s.hold_ms)
                    for k in range(1, counted + 1):
                        spoken(str(k), 1000 if k < counted else s.hold_ms - k * 1000)
                    spoken(s.release, s.rest_ms)
            elif isinstance(s, Breathe):
                for _ in range(s.cycles):
                    for key, ms in (("in", s.in_ms), ("hold", s.hold_ms), ("out", s.out_ms),
                                    ("hold_out", s.hold_out_ms)):
                        if ms > 0:
                            spoken(s.cues[key], ms)
            elif isinstance(s, Repeat):
                for _ in range(s.times):
                    walk(s.steps)
            elif isinstance(s, Section):
                pass

    walk(script.steps)
    return session


def export(session: AudioSegment, out: Path) -> None:
    """Write the session as WAV or MP3 the pydub way."""
    fmt = out.suffix.lstrip(".").lower()
    session.export(str(out), format=fmt, **({"bitrate": "64k"} if fmt == "mp3" else {})).close()


def main(argv=None) -> None:
    script, out = (Path(a) for a in (argv or sys.argv[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        export(build(script, Path(tmp)), out)


if __name__ == "__main__":
    main()
