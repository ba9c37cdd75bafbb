"""Listings laid out for a terminal: lines of at most 80 columns (fewer on a narrower one), long text wrapped
and indented under what it belongs to."""

from __future__ import annotations

import re
import shutil
import textwrap

MAX_WIDTH = 80      # wider lines are harder to read; click's help stops at 80 too
MIN_WIDTH = 40      # below this, wrapping makes a listing longer without making it readable


def width() -> int:
    """The columns a listing may use: the terminal's ($COLUMNS first), at most 80; 80 when there is no terminal."""
    return max(MIN_WIDTH, min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns))


_KEEP = "\x1f"      # stands for a space inside a command while a text is wrapped (never in the text itself)


def wrapped(text: str, indent: int | str = 0, *, first: str | None = None, columns: int | None = None,
            split_long: bool = False) -> list[str]:
    """`text` wrapped to the listing's width: after `first` on the first line (default: the indent), and under it.

    Words are not split, so a path or a command stays whole to be copied (a longer one has a line of its own),
    unless `split_long` (a person's note, where a word wider than the line is no path)."""
    pad = " " * indent if isinstance(indent, int) else indent
    # A command in backticks stays on one line, to be copied whole: its spaces are not places to break.
    text = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", _KEEP), " ".join(text.split()))
    lines = textwrap.wrap(text, width=columns or width(), initial_indent=pad if first is None else first,
                          subsequent_indent=pad, break_long_words=split_long, break_on_hyphens=False)
    return [line.replace(_KEEP, " ") for line in lines] or ([first.rstrip()] if first else [])



def paragraphs(text: str, indent: int | str = 0) -> list[str]:
    """A text of lines and paragraphs, each line wrapped to the listing's width (blank lines kept)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(wrapped(line, indent) if line.strip() else [""])
    return out


def row(cells: list[tuple[str, int]], rest: str = "", *, columns: int | None = None,
        split_long: bool = False) -> list[str]:
    """Cells padded to their widths (a negative width aligns right), then `rest` wrapped under its own start."""
    head = "".join(text.rjust(-w) if w < 0 else text.ljust(w) for text, w in cells)
    if not rest:
        return [head.rstrip()]
    return wrapped(rest, len(head), first=head, columns=columns, split_long=split_long)
