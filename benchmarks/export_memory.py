"""Export of a long session: peak memory (ours and ffmpeg's) and time, as ratios to the limits.

    python -m benchmarks.export_memory [MINUTES] [FORMAT ...]      (default: 60 mp3)
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

# Runs in a fresh interpreter so its peak RSS is the export's alone.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from voicecoach.cache import Cache
from voicecoach.export.file import export_script
start = time.perf_counter()
done = export_script(sys.argv[1], sys.argv[2], Cache(Path(sys.argv[3])), transcript=False)
seconds = time.perf_counter() - start
# VmHWM belongs to this program's own memory; ru_maxrss would also count the parent's
# size at fork (Linux keeps it across exec), which under pytest is hundreds of MB.
try:
    own = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
# Export computes the loudness without decoding; the file is measured here, after the figures above.
from voicecoach.audio.loudness import measure_file
heard = measure_file(Path(sys.argv[2]))
print(json.dumps({"seconds": seconds, "audio_ms": done.session.timeline.length, "own_mb": own,
                  "ffmpeg_mb": children, "lufs": heard.integrated, "true_peak": heard.true_peak,
                  "computed_lufs": done.loudness.integrated}))
"""


def measure(minutes: float, fmt: str, folder: Path, cache: Path) -> dict:
    """Export a generated session of `minutes` to `fmt` in a fresh process; its peak RSS and time."""
    script = write_session(folder, minutes)
    # Render the phrases first, so the measurement is the export and not the speech engine.
    subprocess.run([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(cache), "show", str(script)],
                   cwd=ROOT, check=True, capture_output=True)
    out = folder / f"long.{fmt}"
    proc = subprocess.run([sys.executable, "-c", CHILD, str(script), str(out), str(cache)],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the {fmt} export failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    minutes = float(argv[0]) if argv else 60
    formats = argv[1:] or ["mp3"]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in formats:
            r = measure(minutes, fmt, Path(tmp), Path(tmp) / "cache")
            audio = r["audio_ms"] / 1000
            print(f"{fmt:>4} {audio / 60:5.1f} min: peak RSS {r['own_mb']:.0f} MB "
                  f"({r['own_mb'] / LIMIT_MB:.2f} of the {LIMIT_MB} MB limit), ffmpeg {r['ffmpeg_mb']:.0f} MB; "
                  f"export {r['seconds'] / audio:.3f} s per second of audio ({audio / r['seconds']:.0f}x real time); "
                  f"{r['lufs']:.1f} LUFS, true peak {r['true_peak']:.1f} dBTP")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
