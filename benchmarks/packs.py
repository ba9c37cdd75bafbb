"""Voice packs: building a session from a full pack (nothing cached) against the same session with every phrase
cached from the neural voice (ratio), and the time cleaning takes per minute of recording.

python -m benchmarks.packs [--minutes 10] [--voice piper:joe]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _takes(texts: list[str]) -> dict[str, np.ndarray]:
    """A recording (48 kHz, espeak-ng's words in a little hiss) for each text: what a microphone would give."""
    import soxr

    from voicecoach.speech.voice import Voice
    from voicecoach.testing import synthesise_in_worker
    rng = np.random.default_rng(7)
    out = {}
    for text in texts:
        samples, rate = synthesise_in_worker(Voice("pyttsx3", None), text)
        words = soxr.resample(samples.astype(np.float32), rate, 48_000, quality="HQ") * 0.3
        x = np.concatenate([np.zeros(24_000), words, np.zeros(48_000)])
        x += rng.normal(0, 30, len(x))
        out[text] = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10, help="length of the benchmark session")
    p.add_argument("--voice", default="piper:joe", help="the neural voice to compare with (cached)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")     # a pack of its own, never the user's
        from voicecoach.cache import Cache
        from voicecoach.exercise.script import load_script
        from voicecoach.pack import phrases, store
        from voicecoach.pack.clean import clean
        from voicecoach.session import prepare

        from .sessions import write_session
        script = write_session(Path(tmp), args.minutes)
        texts = phrases.of_script(script)
        recordings = _takes(texts)
        recorded_s = sum(len(r) for r in recordings.values()) / 48_000

        start = time.perf_counter()
        cleaned = {text: clean(raw, 48_000) for text, raw in recordings.items()}
        cleaning = time.perf_counter() - start
        pack = store.open_pack("bench", create=True, consent="benchmark")
        for text, take in cleaned.items():
            pack = store.keep(pack, text, take.samples)

        neural = Cache(Path(tmp) / "neural")
        prepare(script, neural, voice=args.voice)       # every phrase cached from the neural voice
        warm, cold, again = [], [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            prepare(script, neural, voice=args.voice)
            warm.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            session = prepare(script, Cache(Path(tmp) / f"pack-{i}"), voice="recorded:bench:pyttsx3")
            cold.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            prepare(script, Cache(Path(tmp) / f"pack-{i}"), voice="recorded:bench:pyttsx3")
            again.append(time.perf_counter() - t0)
        length = load_script(script).title, session.timeline.length / 1000
    warm_s, cold_s, again_s = float(np.median(warm)), float(np.median(cold)), float(np.median(again))
    print(f"session: {length[0]} ({length[1] / 60:.1f} min, {len(texts)} distinct phrases, all in the pack)")
    print(f"build from the full pack, nothing cached:   {cold_s:.3f} s")
    print(f"build with every phrase cached ({args.voice}): {warm_s:.3f} s")
    print(f"ratio pack (cold) / neural (cached):         {cold_s / warm_s:.1f} x")
    print(f"build from the pack again (now cached):     {again_s:.3f} s = {again_s / warm_s:.2f} x the neural voice's")
    print(f"cleaning: {cleaning:.2f} s for {recorded_s / 60:.2f} min of recording = "
          f"{cleaning / (recorded_s / 60):.2f} s per minute ({recorded_s / cleaning:.0f} x real time)")


if __name__ == "__main__":
    main()
