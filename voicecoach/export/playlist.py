"""A program folder's playlist (extended M3U, UTF-8) and its short README.txt."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from dataclasses import dataclass

from voicecoach.discreet import NEUTRAL, session_title
from voicecoach.units import about as in_words  # readme() takes an `about` text

PLAYLIST = "playlist.m3u8"
README = "README.txt"


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



def readme(title: str, entries, *, discreet: bool, transcripts: bool, about: str = "", guidance=(),
           stages=()) -> str:
    """A short, kind note for the folder: each file with its length and stage (nothing personal when discreet)."""
    lines = [title if not discreet else NEUTRAL, ""]
    if discreet:
        lines += ["Audio sessions, to be played in order, one at a time.", ""]
    else:
        if about:
            lines += textwrap.wrap(about, 90) + [""]
        lines += ["Guided audio sessions, made by voicecoach. Play them in order, at whatever pace",
                  "feels right for you. There is no hurry, and going back a step is always fine.", ""]
    if any(str(label).startswith("alongside") for label in stages):
        lines += ["The sessions marked \"alongside\" go with the stages named, whenever they help.", ""]
    for i, e in enumerate(entries):
        stage = f", {stages[i]}" if i < len(stages) and stages[i] else ""
        lines.append(f"  {e.file}  ({in_words(e.ms)}{stage})")
        if not discreet and i < len(guidance) and guidance[i]:
            lines += textwrap.wrap(guidance[i], 86, initial_indent="      ", subsequent_indent="      ")
    lines += ["", f"{PLAYLIST} plays them in order in most music and podcast apps.",
              "Copy the whole folder to your phone; the files play with the screen off."]
    if transcripts:
        lines.append("Each .vtt file beside a session holds its words with their times, to read along.")
    return "\n".join(lines) + "\n"
