"""Seconds of synthesis per second of speech, per engine, for 20 calm phrases (cold: nothing cached), and a
cold render of the 30-minute benchmark session with the default voice (× real time).

python -m benchmarks.voices [--minutes 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from voicecoach.cache import Cache, phrase_key
from voicecoach.speech import engines
from voicecoach.speech import pool as speech
from voicecoach.speech.voice import Voice
from voicecoach.units import RATE

PHRASES = [f"{text} {n}." for n, text in enumerate([
    "Let your shoulders drop", "Breathe in slowly", "And let the breath go", "Notice the floor beneath you",
    "Soften your jaw", "Let your belly be soft", "There is no hurry", "Rest for a moment",
    "When you feel ready, gently tighten", "And release, all the way"], 1)] * 2
PHRASES = [f"{p} Round {i // 10 + 1}." for i, p in enumerate(PHRASES)]


def measure(voice: Voice) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        cache = Cache(Path(tmp))
        start = time.perf_counter()
        speech.render(voice, PHRASES, lambda t, s: cache.put(phrase_key(voice, t), s))
        took = time.perf_counter() - start
        spoken = sum(len(cache.get(phrase_key(voice, t))) for t in PHRASES) / RATE
    return took, spoken


def cold_session(minutes: float) -> tuple[str, float, float, int]:
    """(voice, seconds, × real time, phrases) of a cold render of the benchmark session with the default voice."""
    from voicecoach.export.file import render_script

    from .sessions import write_session
    name, vid = engines.best_available()
    spec = f"{name}:{vid}" if vid else name
    with tempfile.TemporaryDirectory() as tmp:
        script = write_session(Path(tmp), minutes)
        start = time.perf_counter()
        session = render_script(script, Path(tmp) / "session.wav", Cache(Path(tmp) / "cache"), voice=spec)
        took = time.perf_counter() - start
    return spec, took, session.timeline.length / 1000 / took, session.synthesised


def export_times(spec: str, minutes: float) -> tuple[float, float, float]:
    """(cold s, warm s, audio s) of exporting the benchmark session to WAV with `spec`: from an empty cache,
    and with every phrase cached but the session never exported (so mastered anew)."""
    from voicecoach.export.file import export_script
    from voicecoach.session import prepare

    from .sessions import write_session
    with tempfile.TemporaryDirectory() as tmp:
        script = write_session(Path(tmp), minutes)
        start = time.perf_counter()
        done = export_script(script, Path(tmp) / "cold.wav", Cache(Path(tmp) / "cold"), voice=spec)
        cold = time.perf_counter() - start
        warm_cache = Cache(Path(tmp) / "warm")
        prepare(script, warm_cache, voice=spec)
        start = time.perf_counter()
        export_script(script, Path(tmp) / "warm.wav", warm_cache, voice=spec)
        warm = time.perf_counter() - start
    return cold, warm, done.session.timeline.length / 1000


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30, help="length of the session rendered with the default voice")
    args = p.parse_args(argv)
    for name, vid in (("piper", "joe"), ("pyttsx3", None), ("festival", "cmu_us_slt_arctic_hts"),
                      ("festival", "kal_diphone"), ("flite", "slt")):
        e = engines.engine(name)
        if not e.installed() or (vid and vid not in [v.id for v in e.voices()]):
            print(f"{name}:{vid}: not installed ({e.install})")
            continue
        took, spoken = measure(Voice(engine=name, name=vid))
        print(f"{name}:{vid or 'default'}: {took:.2f} s for {spoken:.1f} s of speech "
              f"= {took / spoken:.3f} s per second of speech ({len(PHRASES)} phrases, 140 wpm)")
    spec, took, realtime, phrases = cold_session(args.minutes)
    print(f"cold render of the {args.minutes:g}-minute session with the default voice ({spec}): {took:.1f} s "
          f"for {phrases} phrases = {realtime:.0f}× real time")
    name, vid = engines.best_available()
    default = f"{name}:{vid}" if vid else name
    print("export of the benchmark session to WAV (mastered to -16 LUFS), × real time; 60/30 = time ratio")
    for spec, target in ((default, 300), ("pyttsx3", 1000), ("festival:cmu_us_slt_arctic_hts", None), ("flite:slt", None)):
        if spec.split(":")[0] == name and spec != default:
            continue
        rows = {m: export_times(spec, m) for m in (30, 60)}
        (c30, w30, a30), (c60, w60, _) = rows[30], rows[60]
        goal = f" (target {target}×: {'met' if a30 / c30 >= target else 'MISS'})" if target else ""
        print(f"  {spec:<32} cold 30 min {a30 / c30:6.0f}×{goal}, warm {a30 / w30:6.0f}×; "
              f"60/30 cold {c60 / c30:.2f}, warm {w60 / w30:.2f} (target ≤ 2.2)")


if __name__ == "__main__":
    main()
