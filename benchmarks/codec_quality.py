"""LAME's quality levels on a mastered session, with and without a bed: encoding time, and what the
decoded file keeps of the voice (SNR and, where the `pesq` package is installed, wideband PESQ).

    python -m benchmarks.codec_quality [MINUTES] [BED]          (default: 20 waves)

Export's MP3 settings pick the level (`-compression_level`); this shows what each level costs and gives.
PESQ (ITU-T P.862.2) is scored on 8-s stretches that hold speech, at 16 kHz; SNR over the whole file.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .sessions import write_session

LEVELS = (3, 5, 7)          # LAME's default; noise shaping without its amplification loop; no noise shaping
STRETCH_S = 8


def settings(level: int) -> list[str]:
    """Export's MP3 encoder arguments with LAME's quality level set to `level`."""
    from voicecoach.export.formats import ENCODERS
    args = list(ENCODERS["mp3"])
    if "-compression_level" in args:
        at = args.index("-compression_level")
        del args[at: at + 2]
    return args[:-2] + ["-compression_level", str(level)] + args[-2:]


def decode(path: Path) -> np.ndarray:
    """A file's samples as float, mono at the internal rate."""
    from voicecoach.units import RATE
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE),
                          "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768


def pesq_wb(reference: np.ndarray, degraded: np.ndarray) -> float | None:
    """Mean wideband PESQ over the stretches of `reference` that hold speech; None without the pesq package."""
    try:
        from pesq import pesq
    except ImportError:
        return None
    import soxr

    from voicecoach.units import RATE
    ref, deg = soxr.resample(reference, RATE, 16000), soxr.resample(degraded, RATE, 16000)
    n = 16000 * STRETCH_S
    scores = [pesq(16000, ref[i: i + n], deg[i: i + n], "wb") for i in range(0, min(len(ref), len(deg)) - n, n)
              if np.sqrt(np.mean(ref[i: i + n] ** 2)) > 0.01]
    return float(np.mean(scores)) if scores else None


def encode(wav: Path, level: int, out: Path, repeat: int = 3) -> float:
    """Median seconds ffmpeg takes to encode `wav` at LAME level `level`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), *settings(level), str(out)], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    from voicecoach.cache import Cache
    from voicecoach.export.file import export_script
    minutes = float(argv[0]) if argv else 20
    bed = argv[1] if len(argv) > 1 else "waves"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = write_session(folder, minutes)
        results: dict[tuple[str, int], dict] = {}
        for name in ("none", bed):
            wav = folder / f"{name}.wav"
            export_script(script, wav, Cache(folder / "cache"), transcript=False, force=True, background=name)
            reference = decode(wav)
            for level in LEVELS:
                mp3 = folder / f"{name}-{level}.mp3"
                seconds = encode(wav, level, mp3)
                heard = decode(mp3)
                n = min(len(heard), len(reference))
                snr = 10 * np.log10(np.sum(reference[:n] ** 2) / np.sum((heard[:n] - reference[:n]) ** 2))
                results[(name, level)] = {"seconds": seconds, "snr": snr, "pesq": pesq_wb(reference[:n], heard[:n])}
    base = results[("none", LEVELS[0])]["seconds"]

    def heard(r: dict) -> str:
        return f"SNR {r['snr']:.1f} dB" + (f", PESQ-WB {r['pesq']:.2f}" if r["pesq"] is not None else "")
    print(f"{minutes:g}-min session to MP3 at each LAME level (time: x level {LEVELS[0]}'s without a bed):")
    for level in LEVELS:
        plain, over = results[("none", level)], results[(bed, level)]
        print(f"  level {level}: voice alone {plain['seconds'] / base:.2f}x, {heard(plain)}; over {bed} "
              f"{over['seconds'] / base:.2f}x ({over['seconds'] / plain['seconds']:.2f}x the voice alone), {heard(over)}")
    if results[("none", LEVELS[0])]["pesq"] is None:
        print("  (PESQ: pip install pesq to see it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
