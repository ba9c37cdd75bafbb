"""How soon `voicecoach play` is heard: seconds from the command to its first audible sample, with an empty
phrase cache and with every phrase cached, for the default voice and for espeak-ng, on the library's default
script and on 40 plain sentences (say steps only, a short first phrase: nothing timed to render first). The
voice has been used before (a Piper voice is kept prepared after its first load); its very first use is shown
beside.

Measured from outside the process: ALSA's `file` plugin over the null device records what the player
hands to the sound card, and this program watches that file for the first sample at or above -42 dBFS.
Also the fixed cost every command pays: `voicecoach --version` and `--help` as whole processes.

python -m benchmarks.first_sound [--repeat 3] [--script NAME] [--only default|plain]
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
# Issue 26: sound within a second on an empty cache for any script whose first phrase is short, 0.3 s cached.
COLD_TARGET_S, WARM_TARGET_S, START_TARGET_S = 1.0, 0.3, 0.15
HEADER = 44
PLAIN_SENTENCES = 40
DEFAULT_SCRIPT = "scripts/pelvic-floor-release.yaml"


def plain_script(folder: Path, count: int = PLAIN_SENTENCES) -> Path:
    """A script of `count` plain say steps (a short greeting, then calm sentences of 6-25 words), all distinct."""
    from .sessions import GUIDANCE
    lines = ["voicecoach: 1", f"title: {count} plain sentences", "steps:", "  - say: Welcome."]
    for i in range(count - 1):
        first, second = GUIDANCE[i % len(GUIDANCE)], GUIDANCE[(7 * i + 3) % len(GUIDANCE)]
        lines.append(f"  - say: {first if i < len(GUIDANCE) else f'{first} {second}'}")
    path = Path(folder) / "plain-sentences.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _first_audible(path: Path) -> bool:
    try:
        data = path.read_bytes()[HEADER:]
    except OSError:
        return False
    x = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2")
    return bool(len(x)) and int(np.abs(x.astype(np.int32)).max()) >= AUDIBLE


def first_sound(script: str, cache: Path, voice: str | None, work: Path, user_cache: Path,
                timeout: float = 120) -> float:
    """Seconds from starting `voicecoach play` to an audible sample reaching the (recording) sound card
    (`user_cache`: the user cache folder, where a Piper voice is kept prepared after its first load)."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    played = work / "played.wav"
    played.unlink(missing_ok=True)
    (home / ".asoundrc").write_text(f'pcm.!default {{ type file slave.pcm "null" file "{played}" format "wav" }}\n')
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT), "VOICECOACH_DB": str(work / "log.sqlite3"),
           "XDG_CACHE_HOME": str(user_cache)}
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


def fill_cache(script: str, cache: Path, voice: str | None, work: Path, user_cache: Path) -> None:
    """Render every phrase of `script` into `cache` (untimed), as a finished earlier session would have."""
    env = {**os.environ, "HOME": str(work / "home"), "PYTHONPATH": str(ROOT),
           "VOICECOACH_DB": str(work / "log.sqlite3"), "XDG_CACHE_HOME": str(user_cache)}
    if voice is None:
        env["VOICECOACH_CONFIG"] = str(work / "no-config.yaml")
    command = [sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(cache), "render", script,
               "-o", str(work / "rendered.wav")] + (["--voice", voice] if voice else [])
    subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True, cwd=ROOT)
    (work / "rendered.wav").unlink(missing_ok=True)


def whole_process(args: list[str], runs: int) -> float:
    """Median seconds of a whole `voicecoach ARGS` process."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "voicecoach.cli", *args], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(script: str, voice: str | None, repeat: int) -> tuple[float, float, float]:
    """Seconds to the first audible sample: (the voice's first use ever, then medians with an empty phrase cache
    and with every phrase cached, the voice used before)."""
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as kept:
        user_cache = Path(kept)
        with tempfile.TemporaryDirectory() as tmp:
            first = first_sound(script, Path(tmp) / "cache", voice, Path(tmp), user_cache)
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                work = Path(tmp)
                cold.append(first_sound(script, work / "cache", voice, work, user_cache))
                fill_cache(script, work / "cache", voice, work, user_cache)
                warm.append(first_sound(script, work / "cache", voice, work, user_cache))
    return first, statistics.median(cold), statistics.median(warm)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each case (the median is shown)")
    p.add_argument("--script", default=DEFAULT_SCRIPT, help="the library's session to play beside the plain one")
    p.add_argument("--only", choices=("default", "plain"), help="measure only this script")
    p.add_argument("--no-espeak", action="store_true", help="only the default voice")
    args = p.parse_args(argv)
    from voicecoach.speech.engines import best_available
    name, vid = best_available()
    default = f"{name}:{vid}" if vid else name
    voices = [(f"default voice ({default})", None)] + ([] if args.no_espeak else [("espeak-ng", "pyttsx3")])
    with tempfile.TemporaryDirectory() as tmp:
        scripts = [(args.script, args.script), (f"{PLAIN_SENTENCES} plain sentences", str(plain_script(Path(tmp))))]
        scripts = [s for s in scripts if args.only is None or (args.only == "plain") == (s[1] != args.script)]
        print(f"voicecoach play: seconds to the first audible sample at the sound card (median of {args.repeat}; "
              f"ALSA file plugin over the null device); goals: empty cache <= {COLD_TARGET_S} s, "
              f"every phrase cached <= {WARM_TARGET_S} s")
        for label, script in scripts:
            print(f"  {label}")
            for who, voice in voices:
                f, c, w = measure(script, voice, args.repeat)
                print(f"    {who:<28} empty cache {c:5.2f} s ({c / COLD_TARGET_S:.2f} of the {COLD_TARGET_S} s goal: "
                      f"{'met' if c <= COLD_TARGET_S else 'MISS'})   cached {w:5.2f} s ({w / WARM_TARGET_S:.2f} of "
                      f"{WARM_TARGET_S} s: {'met' if w <= WARM_TARGET_S else 'MISS'})   the voice's first use ever "
                      f"{f:5.2f} s")
    for what in (["--version"], ["--help"]):
        t = whole_process(what, max(5, args.repeat))
        print(f"voicecoach {what[0]}: {t:.3f} s as a whole process ({t / START_TARGET_S:.2f} of the "
              f"{START_TARGET_S} s budget)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
