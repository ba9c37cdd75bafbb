"""What discreet files, folders and pages say about themselves: neutral words only."""

from __future__ import annotations

NEUTRAL = "Relaxation"        # the album, artist and page title of anything discreet


def session_title(number: int | None) -> str:
    """The neutral title of the `number`th session ("Session 03"), or "Session"."""
    return f"Session {number:02d}" if number else "Session"
