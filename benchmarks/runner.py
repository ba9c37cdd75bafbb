"""The benchmark runner: naive vs voicecoach (cold and warm, WAV and MP3) vs the hardware's limits."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .sessions import write_session

ROOT = Path(__file__).resolve().parent.parent
FAST, FAST_RUNS = 1.0, 5   # a case quicker than FAST seconds is noisy: run it FAST_RUNS times at least
TARGETS = {
    "cold_vs_naive": 10.0,      # cold 30-min WAV at least this many times faster than naive
    "cold_realtime": 300.0,     # ... and at least this many times faster than real time
    "warm_wav_vs_write": 3.0,   # warm WAV at most this many times the plain write
    "warm_mp3_vs_ffmpeg": 1.2,  # warm MP3 at most this many times ffmpeg alone
    "growth_60_30": 2.2,        # 60-min time at most this many times the 30-min time
    "rss_60_warm_mb": 200.0,    # peak RSS of the 60-min warm render
    "play_first_sample_s": 0.5,  # play, every phrase cached: first sample handed to the output
}


def run_case(args: list[str], work: Path) -> dict:
    """Run one case in a fresh interpreter; its own timing and peak RSS come back as JSON."""
    result = work / f"result-{time.monotonic_ns()}.json"
    # Start every case with no dirty pages waiting for the disk, so that no case pays for the
    # write-back of an earlier one's files.
    os.sync()
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.case", *args, "--result", str(result)],
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case {args[0]} failed:\n{proc.stderr[-3000:]}")
    data = json.loads(result.read_text())
    result.unlink()
    data["process_seconds"] = wall
    return data


def repeated(runs: list[dict]) -> dict:
    """The median time of several runs and the largest peak RSS among them."""
    out = dict(runs[0])
    out["seconds"] = statistics.median(r["seconds"] for r in runs)
    out["runs"] = [round(r["seconds"], 4) for r in runs]
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return out


def done_with(*paths: Path) -> None:
    """Delete outputs no longer needed: dropping their pages spares the disk writing them back."""
    for path in paths:
        for p in (path, path.with_suffix(".vtt")):
            p.unlink(missing_ok=True)


def measure_size(minutes: float, work: Path, repeat: int, naive: bool, log) -> dict:
    """Every case for one session length."""
    folder = work / f"{minutes:g}min"
    folder.mkdir()
    script = write_session(folder, minutes)
    cases: dict[str, dict] = {}
    keep = folder / "voicecoach_warm_wav-0.wav"   # the finished WAV that ffmpeg alone encodes

    def series(name: str, run):
        """`run(i)` -> (case arguments, outputs to delete afterwards), `repeat` times or more if quick."""
        log(f"  {name}")
        runs, i = [], 0
        while i < repeat or (i < FAST_RUNS and runs[0]["seconds"] < FAST):
            args, outputs = run(i)
            runs.append(run_case(args, work))
            done_with(*(o for o in outputs if o != keep))
            i += 1
        cases[name] = repeated(runs)

    def vc(name: str, fmt: str, cache_for_run):
        def run(i):
            out = folder / f"{name}-{i}.{fmt}"
            return ["voicecoach", "--script", str(script), "--out", str(out), "--cache", str(cache_for_run(i))], [out]
        series(name, run)

    render, raw, mp3 = folder / "render.wav", folder / "limit.raw", folder / "limit.mp3"
    series("voicecoach_render_cold_wav", lambda i: (["render", "--script", str(script), "--out", str(render),
                                                     "--cache", str(folder / f"render-cold-{i}")], [render]))
    # A cache holding every phrase of this session (rendering does not master), and what any cache that
    # has exported once holds: the MP3 encoder's measured effect, from exporting another, tiny session.
    # Warm runs start from a copy of it: this session has never been mastered there.
    phrases = folder / "render-cold-0"
    (folder / "other").mkdir()
    other = write_session(folder / "other", 0.5)
    run_case(["voicecoach", "--script", str(other), "--out", str(folder / "other" / "other.mp3"),
              "--cache", str(phrases)], work)

    def phrases_only(name):
        def cache(i):
            copy = folder / f"{name}-{i}"
            shutil.copytree(phrases, copy)
            return copy
        return cache
    vc("voicecoach_cold_wav", "wav", lambda i: folder / f"cold-wav-{i}")
    vc("voicecoach_cold_mp3", "mp3", lambda i: folder / f"cold-mp3-{i}")
    vc("voicecoach_warm_wav", "wav", phrases_only("warm-wav"))
    vc("voicecoach_warm_mp3", "mp3", phrases_only("warm-mp3"))
    # The same session exported to the same format before: its mastering and codec probe are cached too.
    vc("voicecoach_again_wav", "wav", lambda i: folder / "warm-wav-0")
    vc("voicecoach_again_mp3", "mp3", lambda i: folder / "warm-mp3-0")
    series("voicecoach_render_wav", lambda i: (["render", "--script", str(script), "--out", str(render),
                                                "--cache", str(phrases)], [render]))
    series("voicecoach_play", lambda i: (["play", "--script", str(script), "--cache", str(phrases)], []))
    series("limit_write", lambda i: (["write", "--out", str(raw), "--bytes", str(keep.stat().st_size)], [raw]))
    series("limit_ffmpeg", lambda i: (["ffmpeg", "--wav", str(keep), "--out", str(mp3)], [mp3]))
    if naive:
        log("  naive ×1 (one save_to_file + runAndWait per cue, then session += ...)")
        n = run_case(["naive", "--script", str(script), "--out", str(folder / "naive")], work)
        done_with(folder / "naive.wav", folder / "naive.mp3")
        base = {"audio_ms": n["audio_ms"], "peak_rss_mb": n["peak_rss_mb"], "build": n["build"]}
        for fmt in ("wav", "mp3"):
            seconds = n["build"] + n[fmt]
            cases[f"naive_{fmt}"] = {**base, "seconds": seconds, "runs": [round(seconds, 4)]}
    info = cases["voicecoach_warm_wav"]
    for c in cases.values():
        c["realtime"] = c.get("audio_ms", info["audio_ms"]) / 1000 / c["seconds"]
    return {"minutes": minutes, "audio_minutes": info["audio_ms"] / 60000, "speech_share": info["speech_share"],
            "cues": info["cues"], "phrases": info["phrases"], "wav_bytes": info["bytes"], "cases": cases}


ROWS = [
    ("naive_wav", "naive → WAV", "naive_wav", None),
    ("naive_mp3", "naive → MP3", "naive_mp3", None),
    ("voicecoach_cold_wav", "voicecoach cold → WAV", "naive_wav", "limit_write"),
    ("voicecoach_cold_mp3", "voicecoach cold → MP3", "naive_mp3", "limit_ffmpeg"),
    ("voicecoach_warm_wav", "voicecoach warm → WAV", "naive_wav", "limit_write"),
    ("voicecoach_warm_mp3", "voicecoach warm → MP3", "naive_mp3", "limit_ffmpeg"),
    ("voicecoach_again_wav", "voicecoach again → WAV", "naive_wav", "limit_write"),
    ("voicecoach_again_mp3", "voicecoach again → MP3", "naive_mp3", "limit_ffmpeg"),
    ("voicecoach_render_cold_wav", "render cold → WAV", "naive_wav", "limit_write"),
    ("voicecoach_render_wav", "render warm → WAV", "naive_wav", "limit_write"),
    ("limit_write", "limit: write the bytes", None, None),
    ("limit_ffmpeg", "limit: ffmpeg WAV → MP3", None, None),
]


def table(size: dict) -> str:
    """One session's cases side by side, as ratios."""
    c = size["cases"]
    lines = [f"\n{size['minutes']:g}-minute session: {size['audio_minutes']:.1f} min of audio, "
             f"{size['speech_share']:.0%} speech, {size['cues']} cues, {size['phrases']} distinct phrases",
             f"  {'case':<26}{'× faster than naive':>20}{'× the limit':>13}{'× real time':>13}"
             f"{'peak RSS':>10}{'(s)':>9}"]
    for key, label, vs_naive, vs_limit in ROWS:
        if key not in c:
            if key.startswith("naive"):
                lines.append(f"  {label:<26}{'not run (capped: see --naive-max)':>36}")
            continue
        r = c[key]
        faster = f"{c[vs_naive]['seconds'] / r['seconds']:.1f}" if vs_naive in c and vs_naive != key else "—"
        limit = f"{r['seconds'] / c[vs_limit]['seconds']:.2f}" if vs_limit else "—"
        lines.append(f"  {label:<26}{faster:>20}{limit:>13}{r['realtime']:>13.0f}"
                     f"{r['peak_rss_mb']:>8.0f}MB{r['seconds']:>9.3f}")
    if "voicecoach_play" in c:
        r = c["voicecoach_play"]
        lines.append(f"  play, phrases cached: first sample handed to the output after "
                     f"{r['seconds'] / TARGETS['play_first_sample_s']:.2f} of the {TARGETS['play_first_sample_s']:g} s "
                     f"budget, peak RSS {r['peak_rss_mb']:.0f} MB")
    lines.append("  (warm: every phrase cached, this session never mastered; again: the same export done before, "
                 "so its mastering is cached too)")
    return "\n".join(lines)


def growth(sizes: dict, key: str, small: float, large: float) -> float | None:
    """How much longer the large session takes than the small one (time ratio)."""
    if small in sizes and large in sizes and key in sizes[small]["cases"] and key in sizes[large]["cases"]:
        return sizes[large]["cases"][key]["seconds"] / sizes[small]["cases"][key]["seconds"]
    return None


def verdicts(sizes: dict, info: list | None = None) -> list[tuple[str, float, float, bool]]:
    """Each target with its measured figure: (what, figure, target, met); figures for context go to `info`."""
    out = []
    info = [] if info is None else info

    def check(what, figure, target, at_most):
        out.append((what, figure, target, figure <= target if at_most else figure >= target))

    if 30 in sizes:
        c = sizes[30]["cases"]
        # Rendering to WAV is `voicecoach render` (the session's own samples); export adds mastering.
        if "naive_wav" in c:
            check("cold 30-min render → WAV: × faster than naive",
                  c["naive_wav"]["seconds"] / c["voicecoach_render_cold_wav"]["seconds"], TARGETS["cold_vs_naive"], False)
        check("cold 30-min render → WAV: × real time", c["voicecoach_render_cold_wav"]["realtime"],
              TARGETS["cold_realtime"], False)
        check("warm 30-min render → WAV: × the plain write",
              c["voicecoach_render_wav"]["seconds"] / c["limit_write"]["seconds"], TARGETS["warm_wav_vs_write"], True)
        check("warm 30-min export → MP3: × ffmpeg alone",
              c["voicecoach_warm_mp3"]["seconds"] / c["limit_ffmpeg"]["seconds"], TARGETS["warm_mp3_vs_ffmpeg"], True)
        # The same figures for export, whose WAV is mastered to -16 LUFS.
        if "naive_wav" in c:
            info.append(("cold 30-min export → WAV: × faster than naive",
                         c["naive_wav"]["seconds"] / c["voicecoach_cold_wav"]["seconds"]))
        info.append(("cold 30-min export → WAV: × real time", c["voicecoach_cold_wav"]["realtime"]))
        info.append(("warm 30-min export → WAV: × the plain write",
                     c["voicecoach_warm_wav"]["seconds"] / c["limit_write"]["seconds"]))
        info.append(("30-min WAV exported again (mastering cached): × the plain write",
                     c["voicecoach_again_wav"]["seconds"] / c["limit_write"]["seconds"]))
        info.append(("30-min MP3 exported again (mastering cached): × ffmpeg alone",
                     c["voicecoach_again_mp3"]["seconds"] / c["limit_ffmpeg"]["seconds"]))
    for key in ("voicecoach_render_wav", "voicecoach_render_cold_wav", "voicecoach_warm_wav", "voicecoach_cold_wav",
                "voicecoach_warm_mp3", "voicecoach_cold_mp3"):
        g = growth(sizes, key, 30, 60)
        if g is not None:
            check(f"{key.replace('voicecoach_', '')}: 60-min time / 30-min time", g, TARGETS["growth_60_30"], True)
    if 60 in sizes:
        for key in ("voicecoach_render_wav", "voicecoach_warm_wav", "voicecoach_warm_mp3"):
            check(f"{key.replace('voicecoach_', '')} 60-min: peak RSS (MB)", sizes[60]["cases"][key]["peak_rss_mb"],
                  TARGETS["rss_60_warm_mb"], True)
    for minutes in sorted(sizes):
        check(f"play, {minutes:g}-min session: seconds to the first sample", sizes[minutes]["cases"]["voicecoach_play"]["seconds"],
              TARGETS["play_first_sample_s"], True)
    return out


def summary(sizes: dict) -> str:
    keys = sorted(sizes)
    lines = ["\nGrowth with length (time ratio; audio-length ratio in brackets):"] if len(keys) > 1 else []
    for a, b in zip(keys, keys[1:]):
        span = sizes[b]["audio_minutes"] / sizes[a]["audio_minutes"]
        parts = []
        for key in ("naive_wav", "voicecoach_cold_wav", "voicecoach_warm_wav", "voicecoach_warm_mp3",
                    "voicecoach_render_cold_wav", "voicecoach_render_wav"):
            g = growth(sizes, key, a, b)
            parts.append(f"{key}: {g:.2f}" if g is not None else f"{key}: not run")
        lines.append(f"  {a:g} → {b:g} min [{span:.2f}]  " + ", ".join(parts))
    info: list = []
    checks = verdicts(sizes, info)
    if checks:
        lines.append("\nTargets:")
        for what, figure, target, met in checks:
            lines.append(f"  {'met ' if met else 'MISS'}  {what}: {figure:.2f} (target {target:g})")
    for what, figure in info:
        lines.append(f"  info  {what}: {figure:.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--sizes", default="10,30,60", help="session lengths in minutes, comma separated")
    p.add_argument("--repeat", type=int, default=3,
                   help=f"runs per voicecoach and limit case, at least {FAST_RUNS} when under {FAST:g} s (median is shown)")
    p.add_argument("--naive-max", type=float, default=30,
                   help="skip the naive baseline above this many minutes (it grows quadratically)")
    p.add_argument("--tiny", action="store_true", help="one very short session, one run each: a smoke test")
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument("--keep", type=Path, help="work in this folder and keep the rendered files")
    a = p.parse_args(argv)
    sizes_wanted = [0.5] if a.tiny else [float(s) for s in a.sizes.split(",") if s.strip()]
    repeat = 1 if a.tiny else max(1, a.repeat)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-") as tmp:
        work = Path(a.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        sizes = {}
        for minutes in sizes_wanted:
            log(f"{minutes:g}-minute session")
            sizes[minutes] = measure_size(minutes, work, repeat, minutes <= a.naive_max, log)
            print(table(sizes[minutes]), flush=True)
    print(summary(sizes))
    if sizes_wanted and any(m > a.naive_max for m in sizes_wanted):
        print(f"\nThe naive baseline was not run above {a.naive_max:g} minutes (it grows quadratically); "
              "its growth between the sizes it ran is shown above.")
    if a.json:
        context: list = []
        checks = verdicts(sizes, context)
        a.json.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                                      "repeat": repeat, "naive_max_minutes": a.naive_max,
                                      "targets": TARGETS,
                                      "verdicts": [{"what": w, "figure": f, "target": t, "met": m}
                                                   for w, f, t, m in checks],
                                      "context": [{"what": w, "figure": f} for w, f in context],
                                      "sizes": [sizes[m] for m in sizes]}, indent=2))
    return 0
