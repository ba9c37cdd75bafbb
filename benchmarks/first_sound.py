"""How soon `voicecoach play` is heard: seconds from the command to its first audible sample, with an empty
phrase cache and with every phrase cached, for the default voice and for espeak-ng.

Measured from outside the process: ALSA's `file` plugin over the null device records what the player
hands to the sound card, and this program watches that file for the first sample at or above -42 dBFS.
Also the fixed cost every command pays: `voicecoach --version` and `--help` as whole processes.

python -m benchmarks.first_sound [--repeat 3] [--script NAME]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
AUDIBLE = 256
COLD_TARGET_S, WARM_TARGET_S, START_TARGET_S = 1.5, 0.5, 0.15
HEADER = 44


def _first_audible(path: Path) -> bool:
    try:
        data = path.read_bytes()[HEADER:]
    except OSError:
        return False
    x = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return bool(len(x)) and int(np.abs(x.astype(np.int32)).max()) >= AUDIBLE


def first_sound(script: str, cache: Path, voice: str | None, work: Path, timeout: float = 120) -> float:
    """Seconds from starting `voicecoach play` to an audible sample reaching the (recording) sound card."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    played = work / "played.wav"
    played.unlink(missing_ok=True)
    (home / ".asoundrc").write_text(f'pcm.!default {{ type file slave.pcm "null" file "{played}" format "wav" }}\n')
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT), "VOICECOACH_DB": str(work / "log.sqlite3")}
    if voice is None:
        env.pop("VOICECOACH_CONFIG", None)
        env["VOICECOACH_CONFIG"] = str(work / "no-config.yaml")
    command = [sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(cache), "play", script, "--no-log"]
    if voice:
        command += ["--voice", voice]
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=ROOT)
    try:
        while time.perf_counter() - start < timeout:
            if _first_audible(played):
                return time.perf_counter() - start
            if child.poll() is not None:
                raise RuntimeError(f"play ended first: {child.stderr.read().decode()[-300:] if child.stderr else ''}")
            time.sleep(0.005)
        raise RuntimeError(f"nothing audible within {timeout} s")
    finally:
        child.kill()
        child.wait()


def whole_process(args: list[str], runs: int) -> float:
    """Median seconds of a whole `voicecoach ARGS` process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voicecoach.cli", *args], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each case (the median is shown)")
    p.add_argument("--script", default="scripts/pelvic-floor-release.yaml", help="the session to play")
    args = p.parse_args(argv)
    from voicecoach.speech.engines import best_available
    name, vid = best_available()
    default = f"{name}:{vid}" if vid else name
    print(f"voicecoach play {args.script}: seconds to the first audible sample at the sound card "
          f"(median of {args.repeat}; ALSA file plugin over the null device)")
    for label, voice in ((f"default voice ({default})", None), ("espeak-ng", "pyttsx3")):
        cold, warm = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                cold.append(first_sound(args.script, work / "cache", voice, work))
                warm.append(first_sound(args.script, work / "cache", voice, work))
        c, w = statistics.median(cold), statistics.median(warm)
        print(f"  {label:<28} empty cache {c:5.2f} s ({c / COLD_TARGET_S:.2f} of the {COLD_TARGET_S} s budget)   "
              f"cached {w:5.2f} s ({w / WARM_TARGET_S:.2f} of {WARM_TARGET_S} s)")
    for what in (["--version"], ["--help"]):
        t = whole_process(what, max(5, args.repeat))
        print(f"voicecoach {what[0]}: {t:.3f} s as a whole process ({t / START_TARGET_S:.2f} of the "
              f"{START_TARGET_S} s budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
