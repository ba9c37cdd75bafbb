"""A program folder's playlist (extended M3U, UTF-8)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from voicecoach.discreet import session_title

PLAYLIST = "playlist.m3u8"


@dataclass(frozen=True)
class PlaylistEntry:
    file: str       # name inside the folder
    title: str
    ms: int


def printable(text: str) -> str:
    """`text` without control, format (bidirectional overrides, zero-width) or unassigned characters."""
    # A right-to-left override in a title would make '02 \u202e3pm.exe.mp3' read as something else.
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text
                   if not unicodedata.category(ch).startswith(("Cf", "Cs", "Co", "Cn")))


def safe_name(text: str, limit: int = 80) -> str:
    """`text` as a file name any phone and memory card accepts (FAT/exFAT rules), nothing hidden in it."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]', " ", printable(text))
    cleaned = re.sub(r"\s+", " ", cleaned).strip().strip(".").strip()
    return cleaned[:limit].rstrip() or "Session"


def stage_file(number: int, title: str, ext: str, *, discreet: bool) -> str:
    """The numbered file name of a program's stage: '01 Title.mp3', or 'Session 01.mp3' when discreet."""
    return f"{session_title(number)}.{ext}" if discreet else f"{number:02d} {safe_name(title)}.{ext}"


def stage_playlist(number: int, title: str, *, discreet: bool) -> str:
    """The name of one stage's playlist: 'Stage 02 Familiarisation.m3u8', or 'Stage 02.m3u8' when discreet."""
    return f"Stage {number:02d}.m3u8" if discreet else f"Stage {number:02d} {safe_name(title)}.m3u8"


def _line(text: str) -> str:
    return " ".join(printable(text).split())


def m3u8(entries, title: str | None = None) -> str:
    """An extended M3U playlist: each entry with its length in whole seconds and its title."""
    lines = ["#EXTM3U"]
    if title:
        lines.append(f"#PLAYLIST:{_line(title)}")
    for e in entries:
        lines += [f"#EXTINF:{round(e.ms / 1000)},{_line(e.title)}", e.file]
    return "\n".join(lines) + "\n"


def parse_m3u8(text: str) -> list:
    """The entries of an extended M3U playlist (lengths in whole seconds, as ms)."""
    entries, pending = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            length, _, name = line[len("#EXTINF:"):].partition(",")
            pending = (int(float(length) * 1000), name)
        elif line and not line.startswith("#"):
            ms, name = pending if pending else (0, line)
            entries.append(PlaylistEntry(line, name, ms))
            pending = None
    return entries
