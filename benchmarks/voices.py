"""Seconds of synthesis per second of speech, per engine, for 20 calm phrases (cold: nothing cached)."""

from __future__ import annotations

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


def main() -> None:
    for name, vid in (("pyttsx3", None), ("festival", "cmu_us_slt_arctic_hts"), ("festival", "kal_diphone"),
                      ("flite", "slt")):
        e = engines.engine(name)
        if not e.installed() or (vid and vid not in [v.id for v in e.voices()]):
            print(f"{name}:{vid}: not installed ({e.install})")
            continue
        took, spoken = measure(Voice(engine=name, name=vid))
        print(f"{name}:{vid or 'default'}: {took:.2f} s for {spoken:.1f} s of speech "
              f"= {took / spoken:.3f} s per second of speech ({len(PHRASES)} phrases, 140 wpm)")


if __name__ == "__main__":
    main()
