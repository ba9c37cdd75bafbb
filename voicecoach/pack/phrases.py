"""The phrases a pack needs: every distinct phrase of some scripts or a whole program, and the phrase list
(file name -> phrase) that a person records from elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence, Union

from voicecoach.exercise import medium
from voicecoach.exercise.library import _is_program_file, locate
from voicecoach.exercise.program import load_program
from voicecoach.exercise.script import load_script, phrases
from voicecoach.speech.packs import phrase_key, slug

# --set overrides as load_script takes them: a mapping, or "name=value" texts.
Overrides = Union[Mapping[str, object], Sequence[str], None]

LIST_HEAD = ("# The phrases of this voice pack, one a line: the file name to record it into (.wav, .flac, .mp3,\n"
             "# .m4a or .ogg), a tab, then the words. Record each into its own file, put them in one folder,\n"
             "# then run `voicecoach pack import {name} FOLDER --consent \"whose voice, and who agreed\"`.\n")


def of_script(path: Path, overrides: Overrides = None) -> list[str]:
    """Every phrase a script speaks, played or exported (a file says some prompts its own way), in order."""
    script = load_script(path, overrides)
    said = phrases(script.steps) + phrases(medium.for_file(script).steps)
    return list(dict.fromkeys(phrase_key(t) for t in said))


def of_names(names: Sequence[str], overrides: Overrides = None) -> list[str]:
    """Every phrase of the scripts or programs named (by name or path), each once, in order."""
    found: list[str] = []
    for name in names:
        path = locate(name)
        if _is_program_file(path):
            if overrides:
                from voicecoach.errors import VoicecoachError
                raise VoicecoachError(f"{path}: --set applies to a script; each stage of a program sets its own")
            for stage in load_program(path).stages:
                found += of_script(stage.script, stage.set)
        else:
            found += of_script(path, overrides)
    return list(dict.fromkeys(found))


def stems(texts: Sequence[str]) -> dict[str, str]:
    """A file stem for each phrase, distinct among them: phrase -> stem."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for text in texts:
        stem, n = slug(text), 2
        base = stem
        while stem in taken:
            stem, n = f"{base}-{n}", n + 1
        taken.add(stem)
        out[text] = stem
    return out


def phrase_list(name: str, texts: Sequence[str]) -> str:
    """The text of a pack's phrase list: a short how-to, then `stem<TAB>phrase` a line."""
    return LIST_HEAD.format(name=name) + "".join(f"{stem}\t{text}\n" for text, stem in stems(texts).items())
