"""Listings laid out for a terminal: lines of at most 80 columns (fewer on a narrower one), long text wrapped
and indented under what it belongs to."""

from __future__ import annotations

import re
import shutil
import textwrap
import unicodedata

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
    head = pad if first is None else first
    if cells(text + head) == len(text + head):
        lines = textwrap.wrap(text, width=columns or width(), initial_indent=head, subsequent_indent=pad,
                              break_long_words=split_long, break_on_hyphens=False)
    else:   # wide characters (日本語 takes two columns a character): textwrap counts characters
        lines = _wrap_cells(text, columns or width(), head, pad, split_long)
    return [line.replace(_KEEP, " ") for line in lines] or ([first.rstrip()] if first else [])


def cells(text: str) -> int:
    """The columns `text` takes on a terminal: two for a wide (East Asian) character, none for a combining one."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap_cells(text: str, columns: int, head: str, pad: str, split_long: bool) -> list[str]:
    """textwrap.wrap's greedy wrapping, by columns instead of characters."""
    lines: list[str] = []
    line, used, words = head, cells(head), 0
    for word in text.split(" ") if text else []:
        if words and used + 1 + cells(word) > columns:
            lines.append(line)
            line, used, words = pad, cells(pad), 0
        # A word of wide characters (Chinese, Japanese) breaks between any two of them, as those scripts do.
        while (split_long or cells(word) > len(word)) and not words and used + cells(word) > columns and len(word) > 1:
            cut = 1
            while cut < len(word) and used + cells(word[: cut + 1]) <= columns:
                cut += 1
            lines.append(line + word[:cut])
            line, used, word = pad, cells(pad), word[cut:]
        line, used, words = line + (" " if words else "") + word, used + (1 if words else 0) + cells(word), words + 1
    if words:
        lines.append(line)
    return [line.rstrip() for line in lines]



def paragraphs(text: str, indent: int | str = 0) -> list[str]:
    """A text of lines and paragraphs, each line wrapped to the listing's width (blank lines kept)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(wrapped(line, indent) if line.strip() else [""])
    return out


def row(columns_of: list[tuple[str, int]], rest: str = "", *, columns: int | None = None,
        split_long: bool = False) -> list[str]:
    """Cells padded to their widths (a negative width aligns right), then `rest` wrapped under its own start."""
    head = "".join(" " * max(0, -w - cells(text)) + text if w < 0 else text + " " * max(0, w - cells(text))
                   for text, w in columns_of)
    if not rest:
        return [head.rstrip()]
    return wrapped(rest, cells(head), first=head, columns=columns, split_long=split_long)
