"""The transcript: a WebVTT file with one cue per spoken line, timed from the timeline."""

from __future__ import annotations

from voicecoach.exercise.timeline import Timeline
from voicecoach.units import timestamp


def _escape(text: str) -> str:
    # The three characters WebVTT cue text reserves; "-->" is covered by ">".
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note(text: str) -> str:
    # A NOTE block ends at a blank line and may not contain "-->".
    return "NOTE " + " ".join(text.split()).replace("-->", "->")


def webvtt(timeline: Timeline, *, sections: bool = True) -> str:
    """The spoken lines of `timeline` as WebVTT; section names become NOTE blocks when `sections`."""
    blocks = ["WEBVTT"]
    if sections and timeline.title:
        blocks.append(_note(timeline.title))
    shown = -1
    number = 0
    for cue in timeline.cues:
        if cue.kind != "speech" or not cue.text:
            continue
        if sections and cue.section is not None and cue.section > shown:
            for index in range(shown + 1, cue.section + 1):
                blocks.append(_note(timeline.sections[index].name))
            shown = cue.section
        number += 1
        blocks.append(f"{number}\n{timestamp(cue.start)} --> {timestamp(cue.end)}\n{_escape(cue.text)}")
    return "\n\n".join(blocks) + "\n"
