"""Cold exports against their goals (issue 26): a 10-minute session to WAV with espeak-ng against the naive
pyttsx3 + pydub code (goal: at least 10 times faster), and a 30-minute session to WAV with the default voice
(goal: at least 300 times real time). Every case runs in a fresh interpreter with an empty cache, timed inside
it around the work (benchmarks/case.py), alternated, and the median is shown.

python -m benchmarks.cold_export [--repeat 3] [--tiny]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from .runner import run_case
from .sessions import write_session

VS_NAIVE_GOAL, REALTIME_GOAL = 10.0, 300.0


def with_voice(script: Path, spec: str) -> Path:
    """The benchmark session spoken by `spec` instead of espeak-ng."""
    text = script.read_text(encoding="utf-8").replace("voice: {name: pyttsx3, rate: 140}",
                                                      f'voice: {{name: "{spec}", rate: 140}}')
    out = script.with_name(f"{script.stem}-{spec.replace(':', '-')}.yaml")
    out.write_text(text, encoding="utf-8")
    return out


def cold(script: Path, work: Path, i: int) -> dict:
    """One cold export of `script` to WAV, an empty cache of its own."""
    out = work / f"cold-{i}.wav"
    result = run_case(["voicecoach", "--script", str(script), "--out", str(out), "--cache", str(work / f"cache-{i}")],
                      work)
    out.unlink(missing_ok=True)
    out.with_suffix(".vtt").unlink(missing_ok=True)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each case (the median is shown)")
    p.add_argument("--tiny", action="store_true", help="1-minute sessions, one run each (a smoke test)")
    args = p.parse_args(argv)
    repeat = 1 if args.tiny else max(1, args.repeat)
    short, long = (1, 1) if args.tiny else (10, 30)
    from voicecoach.speech.engines import best_available
    name, vid = best_available()
    spec = f"{name}:{vid}" if vid else name
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = write_session(work, short)
        naive, ours = [], []
        for i in range(repeat):       # alternated, so that both see the same machine
            n = run_case(["naive", "--script", str(script), "--out", str(work / "naive")], work)
            (work / "naive.wav").unlink(missing_ok=True)
            (work / "naive.mp3").unlink(missing_ok=True)
            naive.append(n["build"] + n["wav"])
            ours.append(cold(script, work, i)["seconds"])
        n_s, o_s = statistics.median(naive), statistics.median(ours)
        ratio = n_s / o_s
        print(f"cold {short}-minute export to WAV, espeak-ng (median of {repeat}): {o_s:.2f} s against {n_s:.2f} s "
              f"for the naive pyttsx3 + pydub code: {ratio:.1f}× faster (goal ≥ {VS_NAIVE_GOAL:g}×: "
              f"{'met' if ratio >= VS_NAIVE_GOAL else 'MISS'})")
        voiced = with_voice(write_session(work, long), spec)
        runs = [cold(voiced, work, 100 + i) for i in range(repeat)]
        seconds = statistics.median(r["seconds"] for r in runs)
        audio = runs[0]["audio_ms"] / 1000
        realtime = audio / seconds
        print(f"cold {long}-minute export to WAV, default voice {spec} (median of {repeat}): {seconds:.2f} s for "
              f"{audio / 60:.1f} min of audio: {realtime:.0f}× real time (goal ≥ {REALTIME_GOAL:g}×: "
              f"{'met' if realtime >= REALTIME_GOAL else 'MISS'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
