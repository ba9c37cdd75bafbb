"""A session's chapters as a JSON file beside it, in the podcast namespace's format (podcast:chapters)."""

from __future__ import annotations

import json
from pathlib import PurePath

VERSION = "1.2.0"                         # of the JSON chapters format
MEDIA_TYPE = "application/json+chapters"  # what podcast:chapters declares as the file's type


def chapters_name(audio: str) -> str:
    """The chapters file's name beside the audio file `audio` ("01 Letting go.chapters.json")."""
    return PurePath(audio).stem + ".chapters.json"


def chapters_json(chapters, title: str = "") -> str:
    """`chapters` (audio.tags.Chapter, in ms) as the podcast namespace's JSON chapters, times in seconds."""
    # The same chapters the files carry inside (ID3 CHAP, MP4, Vorbis CHAPTERxxx): one per section.
    items = [{"startTime": c.start / 1000, "endTime": c.end / 1000, "title": c.title} for c in chapters]
    document = {"version": VERSION, **({"title": title} if title else {}), "chapters": items}
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
