"""The units every stage shares: the internal sample rate, and times written for people."""

from __future__ import annotations

RATE = 24_000                 # internal sample rate: 24 samples per millisecond, exactly
SAMPLES_PER_MS = RATE // 1000


def samples_to_ms(n: int) -> int:
    """Length in whole milliseconds that `n` samples occupy (rounded up)."""
    return -(-n // SAMPLES_PER_MS)


def clock(ms: int) -> str:
    """`ms` as m:ss.mmm (or h:mm:ss.mmm)."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h}:{m:02d}:{s:02d}.{milli:03d}" if h else f"{m}:{s:02d}.{milli:03d}"


def minutes(ms: int) -> str:
    """`ms` as m:ss (or h:mm:ss), rounded down to the second, as lists and players show a length."""
    return clock(ms).rsplit(".", 1)[0]


def timestamp(ms: int) -> str:
    """`ms` as hh:mm:ss.ttt, as WebVTT and ffmpeg's metadata write it."""
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{milli:03d}"


def length_text(ms: int, estimated: bool = False) -> str:
    """A length as lists show it: m:ss, or "about N min" for an estimate."""
    if not estimated:
        return minutes(ms)
    n = round(ms / 60000)
    return f"about {n} min" if n else "under 1 min"


def about(ms: int) -> str:
    """`ms` in words, to the nearest minute: "about 6 minutes", "under a minute"."""
    n = round(ms / 60000)
    return f"about {n} minute{'s' if n != 1 else ''}" if n else "under a minute"


def spoken(ms: int) -> str:
    """A length in words, as messages say it: "61 minutes", "1 minute 30 seconds", "2.5 seconds", "2 hours"."""
    if ms < 60_000:
        return _count(ms / 1000, "second")
    whole_minutes, rest = divmod(ms, 60_000)
    # Hours only from two on: "61 minutes" is how a person who wrote `61m` thinks of it, "90 minutes" too.
    hours, whole_minutes = divmod(whole_minutes, 60) if whole_minutes >= 120 else (0, whole_minutes)
    parts = [_count(hours, "hour")] if hours else []
    parts += [_count(whole_minutes, "minute")] if whole_minutes else []
    parts += [_count(rest / 1000, "second")] if rest else []
    return " ".join(parts)


def _count(n: float, unit: str) -> str:
    text = f"{n:.3f}".rstrip("0").rstrip(".") if isinstance(n, float) else str(n)
    return f"{text} {unit}{'' if text == '1' else 's'}"
