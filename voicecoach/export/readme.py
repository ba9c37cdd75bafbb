"""A program folder's README.txt: a short, kind note naming each file with its length and stage."""

from __future__ import annotations

import textwrap

from voicecoach.discreet import NEUTRAL
from voicecoach.exercise.safety import HEADING, NEUTRAL_WHEN_TO_STOP, WHEN_TO_STOP
from voicecoach.export.playlist import PLAYLIST
from voicecoach.units import about as in_words  # readme() takes an `about` text

README = "README.txt"


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
    # Where the sessions go, the guidance goes: a copied folder has no README.md beside it.
    lines += ["", HEADING if not discreet else "Take care", ""]
    for sentence in (NEUTRAL_WHEN_TO_STOP if discreet else WHEN_TO_STOP):
        lines += textwrap.wrap(sentence, 90)
    lines += ["", f"{PLAYLIST} plays them in order in most music and podcast apps.",
              "Copy the whole folder to your phone; the files play with the screen off."]
    if transcripts:
        lines.append("Each .vtt file beside a session holds its words with their times, to read along.")
    return "\n".join(lines) + "\n"
