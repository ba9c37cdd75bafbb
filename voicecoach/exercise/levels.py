"""How loud each sound that is not words sits under the voice: a level in dB relative to the voice.

A tone's level is its loudness over its own span (BS.1770, gated as a session's is) minus the voice's
integrated loudness (the session's speech alone), the same units as a background's level. Every medium
makes its tones at these levels from the voice it actually has, so they hold at any volume, over a bed,
and after mastering to the loudness target.
"""

from __future__ import annotations

from dataclasses import dataclass

# The levels, and why (the README's table is made from TABLE below).
KEEP_ALIVE = -18.0  # in a long silence: "the file has not stopped", a reassurance and not a cue; 15-20 LU under
#                     the voice is heard in a quiet room yet does not break a relaxed hold
READY = -10.0       # the end of a wait: a cue to go on, softer than the words that follow it
CHIME = -8.0        # a script's chime: a gentle cue between parts, clearly there but under the voice
EARCON = -6.0       # hands-free, before each phase, heard over running water: shower noise is broadband, so in
#                     the earcon's own band (440-660 Hz) it holds little of its power; over the rain bed's hiss
#                     (a shower-like noise) as loud as the voice (0 dB speech-to-noise, where words are still
#                     mostly understood), the earcon measured 8.5 dB above the noise in its third-octave bands:
#                     heard wherever the voice is, while staying under it
MIN_LEVEL, MAX_LEVEL = -40.0, 0.0   # quieter than -40 is lost under any room; louder than the voice is no longer under it

TABLE = (
    ("keep-alive tone (a long pause, every 20 s)", "tones.keep_alive", KEEP_ALIVE,
     "a reassurance that the file has not stopped, not a cue: it must not break a quiet hold"),
    ("ready tone (the end of a wait)", "tones.ready", READY, "a cue to go on, softer than the words after it"),
    ("chime (`chime:` step)", "chime.level, tones.chime", CHIME, "a gentle cue between parts"),
    ("hands-free earcons (before each phase)", "tones.earcon", EARCON,
     "heard over running water (8.5 dB over shower-like noise in its own band when the noise is as loud as "
     "the voice), still under the voice"),
)


@dataclass(frozen=True)
class ToneLevels:
    """The levels a session gives its tones, in dB relative to the voice (a script's `tones:` sets them)."""
    keep_alive: float = KEEP_ALIVE
    ready: float = READY
    chime: float = CHIME
    earcon: float = EARCON


def table() -> str:
    """The levels as a Markdown table: sound, level relative to the voice, the script key, why."""
    rows = ["| sound | level (dB relative to the voice) | script key | why |", "|---|---|---|---|"]
    rows += [f"| {sound} | {level:g} | `{key}` | {why} |" for sound, key, level, why in TABLE]
    return "\n".join(rows)
