"""The trainer sizes there are: the sizes the programs in a folder set (`set: {size: N}`), which a
`--set size=` and `log trainer --size` may take."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.document import Document, read_text

SIZE = "size"      # the parameter that names a trainer's size, in every script that uses one


def program_sizes(folder: Path) -> tuple[int, ...]:
    """Every trainer size a program in `folder` sets on a stage, smallest first; () when none sets one."""
    found: set[int] = set()
    try:
        candidates = sorted(Path(folder).glob("*.yaml"))
    except OSError:
        return ()
    for path in candidates:
        try:
            # read_text refuses a FIFO or a device at once; only the programs (they list `stages:`) are parsed.
            text = read_text(path)
            if "stages" in text:
                found.update(_sizes_in(Document(path, text)))
        except (OSError, VoicecoachError):
            continue        # a program that cannot be read is reported where it is used, not here
    return tuple(sorted(found))


def _sizes_in(doc: Document) -> Iterable[int]:
    root = doc.root
    if not root.is_mapping:
        return
    for key, _, stages in root.items("the program"):
        if key != "stages" or not stages.is_sequence:
            continue
        for stage in stages.sequence("stages"):
            if not stage.is_mapping:
                continue
            for name, _, sets in stage.items("a stage"):
                if name != "set" or not sets.is_mapping:
                    continue
                for param, _, value in sets.items("set"):
                    size = value.scalar("set") if value.is_scalar else None
                    if param == SIZE and isinstance(size, int) and not isinstance(size, bool):
                        yield size


def sizes_text(sizes: tuple[int, ...]) -> str:
    """The sizes as a person reads them: "sizes 1 to 4", "sizes 1, 2 and 5", "size 1"."""
    if len(sizes) == 1:
        return f"size {sizes[0]}"
    if sizes == tuple(range(sizes[0], sizes[-1] + 1)):
        return f"sizes {sizes[0]} to {sizes[-1]}"
    return f"sizes {', '.join(map(str, sizes[:-1]))} and {sizes[-1]}"
