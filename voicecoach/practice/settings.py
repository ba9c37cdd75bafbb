"""Which of an entry's settings say something: those a person chose, not the defaults of a script that nobody set."""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.document import Document
from voicecoach.exercise.library import locate
from voicecoach.exercise.script import script_from_document

_NAMED = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def unchosen(script: str) -> Mapping[str, object]:
    """The settings of `script` (a name in the log) that go without saying: its defaults, except the ones its title
    names ("Trainer session, size $size": the size is what the session is); {} when the script cannot be read."""
    try:
        doc = Document.load(locate(script))
        defaults = script_from_document(doc, {}).params
        title = next((value.scalar("title") for key, _, value in doc.root.items("the script") if key == "title"), "")
    except VoicecoachError:
        return {}       # renamed, deleted or broken since: every setting is shown, as it was logged
    named = set(_NAMED.findall(title)) if isinstance(title, str) else set()
    return {name: value for name, value in defaults.items() if name not in named}


def unchosen_of(scripts: Iterable[str | None]) -> dict[str, Mapping[str, object]]:
    """unchosen() for each distinct script name (each file read once)."""
    return {name: unchosen(name) for name in set(scripts) if name}
