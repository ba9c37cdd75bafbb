"""One benchmark case in its own process, so its peak RSS is its own: `python -m benchmarks.case`."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

WRITE_BLOCK = 1 << 20


def peak_rss_mb() -> float:
    """The largest resident set of this process or any child it waited for (TTS workers, ffmpeg)."""
    # VmHWM is this program's own peak; ru_maxrss would also count the parent's size at
    # fork, which Linux keeps across exec (hundreds of MB when launched from pytest).
    try:
        own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # Linux reports KiB


def naive(script: Path, out: Path) -> dict:
    """Build the session the naive way, then export it to WAV and to MP3 (timed apart)."""
    import tempfile

    from . import naive as baseline
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # pyttsx3 prints a line per file
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        session = baseline.build(script, Path(tmp))
        built = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline.export(session, out.with_suffix(".wav"))
    wav = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline.export(session, out.with_suffix(".mp3"))
    mp3 = time.perf_counter() - t0
    return {"build": built, "wav": wav, "mp3": mp3, "audio_ms": len(session)}


def voicecoach(script: Path, out: Path, cache: Path) -> dict:
    """voicecoach's public export path, as `voicecoach export` runs it."""
    import inspect

    from voicecoach.cache import Cache
    from voicecoach.export.file import export_script
    # Export may skip a file that is already up to date; the benchmark wants the work done.
    options = {"force": True} if "force" in inspect.signature(export_script).parameters else {}
    t0 = time.perf_counter()
    done = export_script(script, out, Cache(cache), **options)
    seconds = time.perf_counter() - t0
    if getattr(done, "skipped", False):
        raise RuntimeError("export skipped the file as up to date; nothing was measured")
    timeline = done.session.timeline
    speech = sum(c.length for c in timeline.cues if c.kind == "speech")
    return {"seconds": seconds, "audio_ms": timeline.length, "synthesised": done.session.synthesised,
            "cues": len(timeline.cues), "phrases": len([k for k in done.session.clips if not k.startswith("(")]),  # tones are "(...)"
            "speech_share": speech / timeline.length,
            "bytes": out.stat().st_size}


def render(script: Path, out: Path, cache: Path) -> dict:
    """`voicecoach render`: the session's own samples (no loudness step) written to a WAV."""
    from voicecoach.cache import Cache
    from voicecoach.export.file import render_script
    t0 = time.perf_counter()
    session = render_script(script, out, Cache(cache))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "audio_ms": session.timeline.length, "synthesised": session.synthesised,
            "bytes": out.stat().st_size}


def play(script: Path, cache: Path) -> dict:
    """`play` with every phrase cached: seconds from the call to the first samples handed to the output."""
    import io

    from voicecoach.cache import Cache
    from voicecoach.player.play import play_script
    from voicecoach.testing import RecordingSink

    class Handed(Exception):
        pass

    class FirstWrite(RecordingSink):
        # A sink that stops the player at its first write: what happens next is playing, not starting.
        def write(self, samples):
            super().write(samples)
            raise Handed

    sink = FirstWrite()
    t0 = time.perf_counter()
    try:
        play_script(script, Cache(cache), output=sink, stdin=io.StringIO(), stdout=io.StringIO())
    except Handed:
        pass
    if sink.first_write_at is None:
        raise RuntimeError("the player never wrote to its output")
    return {"seconds": sink.first_write_at - t0, "samples": len(sink.writes[0])}


def write_limit(out: Path, size: int) -> dict:
    """Writing `size` bytes to a new file from one reused buffer: what the disk allows."""
    block = bytes(WRITE_BLOCK)
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        left = size
        while left > 0:
            left -= f.write(block[:min(left, WRITE_BLOCK)])
    return {"seconds": time.perf_counter() - t0}


def ffmpeg_limit(wav: Path, out: Path) -> dict:
    """ffmpeg alone encoding the finished WAV with export's encoder settings."""
    from voicecoach.export.formats import ENCODERS
    t0 = time.perf_counter()
    subprocess.run(["ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-i", str(wav),
                    *ENCODERS["mp3"], str(out)], check=True, stdin=subprocess.DEVNULL)
    return {"seconds": time.perf_counter() - t0}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.case")
    p.add_argument("case", choices=["naive", "voicecoach", "render", "play", "write", "ffmpeg"])
    p.add_argument("--script", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--cache", type=Path)
    p.add_argument("--bytes", type=int)
    p.add_argument("--wav", type=Path)
    p.add_argument("--result", type=Path, required=True)
    a = p.parse_args(argv)
    if a.case == "naive":
        result = naive(a.script, a.out)
    elif a.case == "voicecoach":
        result = voicecoach(a.script, a.out, a.cache)
    elif a.case == "render":
        result = render(a.script, a.out, a.cache)
    elif a.case == "play":
        result = play(a.script, a.cache)
    elif a.case == "write":
        result = write_limit(a.out, a.bytes)
    else:
        result = ffmpeg_limit(a.wav, a.out)
    result["peak_rss_mb"] = peak_rss_mb()
    a.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
