"""Export with a background bed: peak memory against the 200 MB limit, and time against the same
export without a bed (both warm: every phrase rendered, the session mastered once before).

    python -m benchmarks.beds [MINUTES] [BED] [FORMAT]      (default: 60 waves mp3)

A lossy encoder's own cost grows with a bed: LAME takes about 3x as long on soft noise as on the
silence a session without a bed mostly is, so the encoder alone is timed on both as well.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .sessions import write_session

ROOT = Path(__file__).resolve().parent.parent
LIMIT_MB = 200
LIMIT_RATIO = 1.5
REPEAT = 3

# A fresh interpreter per export, so its peak RSS is that export's alone.
CHILD = """
import json, sys, time
from pathlib import Path
from voicecoach.cache import Cache
from voicecoach.export.file import export_script
bed = sys.argv[4] or None
start = time.perf_counter()
export_script(sys.argv[1], sys.argv[2], Cache(Path(sys.argv[3])), transcript=False, force=True, background=bed)
seconds = time.perf_counter() - start
own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
from voicecoach.audio.loudness import measure_file
heard = measure_file(Path(sys.argv[2]))
print(json.dumps({"seconds": seconds, "own_mb": own, "lufs": heard.integrated, "true_peak": heard.true_peak}))
"""


def export(script: Path, out: Path, cache: Path, bed: str) -> dict:
    """One export in a fresh process: its time, peak RSS and the file's measured loudness."""
    proc = subprocess.run([sys.executable, "-c", CHILD, str(script), str(out), str(cache), bed],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the export failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run of median time (its RSS and loudness with it)."""
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


def main(argv: list[str]) -> int:
    minutes = float(argv[0]) if argv else 60
    bed = argv[1] if len(argv) > 1 else "waves"
    fmt = argv[2] if len(argv) > 2 else "mp3"
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp), Path(tmp) / "cache"
        script = write_session(folder, minutes)
        out = folder / f"long.{fmt}"
        # Warm: the phrases rendered and each session mastered once, so both runs below are alike.
        for b in ("", bed):
            export(script, out, cache, b)
        # Alternated, and the median of each kept: a 2-core machine's neighbours move single runs by 10-20 %.
        runs = [(export(script, out, cache, ""), export(script, out, cache, bed)) for _ in range(REPEAT)]
        plain, with_bed = (median_run([r[i] for r in runs]) for i in (0, 1))
        floor = encoder_alone(script, folder, cache, bed, fmt) if fmt != "wav" else None
    print(f"{minutes:g} min {fmt.upper()} with {bed}: peak RSS {with_bed['own_mb']:.0f} MB "
          f"({with_bed['own_mb'] / LIMIT_MB:.2f} of the {LIMIT_MB} MB limit); "
          f"{with_bed['seconds'] / plain['seconds']:.2f}x the export without a bed "
          f"({with_bed['seconds']:.2f} s against {plain['seconds']:.2f} s) "
          f"({with_bed['seconds'] / plain['seconds'] / LIMIT_RATIO:.2f} of the {LIMIT_RATIO}x limit); "
          f"{with_bed['lufs']:.1f} LUFS, true peak {with_bed['true_peak']:.1f} dBTP")
    if floor is not None:
        print(f"  ffmpeg alone, encoding the same session's audio with export's settings: {floor:.2f}x as long "
              f"with the bed as without")
    return 0


def encoder_alone(script: Path, folder: Path, cache: Path, bed: str, fmt: str) -> float:
    """Time of ffmpeg encoding the session's samples with the bed over the time without it (export's settings)."""
    import time

    from voicecoach.audio import ffmpeg
    from voicecoach.audio.wav import write_wav
    from voicecoach.cache import Cache
    from voicecoach.export.formats import ENCODERS
    from voicecoach.session import prepare
    times = []
    for b in (None, bed):
        session = prepare(script, Cache(cache), background=b)
        wav = folder / "alone.wav"
        write_wav(wav, session.blocks())
        start = time.perf_counter()
        ffmpeg.run(["-i", str(wav)] + ENCODERS[fmt] + [str(folder / f"alone.{fmt}")])
        times.append(time.perf_counter() - start)
    return times[1] / times[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
