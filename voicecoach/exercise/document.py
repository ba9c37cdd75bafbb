"""A YAML document read safely and with bounded cost, whose every value knows its line."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from voicecoach.errors import VoicecoachError, at, shown

# Scripts are a few kilobytes; these bounds refuse hostile files (alias bombs,
# deep nesting, huge inputs) quickly and in bounded memory.
MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_EVENTS = 200_000
MAX_NODES = 200_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_scalars = yaml.constructor.SafeConstructor()


def read_text(path) -> str:
    """Read a script file as UTF-8 text, refusing what no script can be."""
    path = Path(path)
    try:
        # Non-blocking, so that opening a FIFO returns at once instead of waiting for a writer forever;
        # then only a regular file is read (not a FIFO, a device or a folder).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                kind = "a folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "not a regular file (a FIFO or a device)"
                raise at(path, 0, f"is {kind}, not a script file")
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise at(path, 0, "no such file") from None
    except IsADirectoryError:
        raise at(path, 0, "is a folder, not a script file") from None
    except OSError as e:
        raise at(path, 0, f"cannot be read ({e.strerror})") from None
    if len(data) > MAX_BYTES:
        raise at(path, 1, f"is larger than {MAX_BYTES // 1000} kB; a script is a short text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise at(path, line, "is not UTF-8 text (save it as UTF-8)") from None


class Document:
    """One parsed YAML document; `root` is its top node."""

    def __init__(self, path, text: str):
        self.path = Path(path)
        self.nodes_seen = 0
        self._check_shape(text)
        try:
            root = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as e:
            raise self._yaml_error(e, text) from None
        except (RecursionError, MemoryError):
            raise at(self.path, 1, "is nested too deeply to be a script") from None
        if root is None:
            raise at(self.path, 1, "is empty")
        self.root = Node(self, root)

    @classmethod
    def load(cls, path) -> "Document":
        """Read and parse the YAML file at `path`."""
        return cls(path, read_text(path))

    def _check_shape(self, text: str) -> None:
        # PyYAML's composer recurses once per nesting level; refuse deep or
        # enormous documents from the (iterative) event stream before composing.
        depth = events = 0
        try:
            for event in yaml.parse(text, Loader=_Loader):
                events += 1
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise at(self.path, _line(event), f"nests deeper than {MAX_DEPTH} levels")
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
                elif isinstance(event, yaml.DocumentStartEvent) and events > 2:
                    raise at(self.path, _line(event), "holds more than one YAML document")
                if events > MAX_EVENTS:
                    raise at(self.path, _line(event), "has too many elements to be a script")
        except yaml.YAMLError as e:
            raise self._yaml_error(e, text) from None

    def _yaml_error(self, e: yaml.YAMLError, text: str) -> VoicecoachError:
        line, message = plain_yaml_error(e, text)
        return at(self.path, line, message)


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (PyYAML may give an event no mark: then the first line)."""
    return event.start_mark.line + 1 if event.start_mark is not None else 1


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _spaces(n: int) -> str:
    return "1 space" if n == 1 else f"{n} spaces"


def plain_yaml_error(e: yaml.YAMLError, text: str) -> tuple[int, str]:
    """A YAML syntax error in plain words, as (line, message), where the mistake is rather than where the parser gave up."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    start = getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    lines = text.splitlines()
    row = min(mark.line, max(len(lines) - 1, 0)) if mark is not None else 0
    col = mark.column if mark is not None else 0
    here = lines[row] if lines else ""
    char = here[col] if col < len(here) else ""
    # Tabs first: they are the most common mistake and the parser's words for them are the least helpful.
    for n, text_line in enumerate(lines[: row + 1]):
        lead = text_line[: len(text_line) - len(text_line.lstrip(" \t"))]
        if "\t" in lead:
            return n + 1, f"a tab at column {lead.index(chr(9)) + 1}; use spaces to indent (YAML allows no tabs there)"
    if char == "\t":
        return row + 1, f"a tab at column {col + 1}; use a space instead (YAML allows no tabs there)"
    if "cannot start any token" in problem and char:
        return row + 1, (f"column {col + 1}: a value cannot begin with {shown(char)} in YAML; "
                         "put the whole value in quotes")
    if "depth" in problem:
        return row + 1, "nests too deeply to be a script (YAML)"
    if "quoted scalar" in (getattr(e, "context", None) or "") and start is not None:
        return start.line + 1, (f"the quote at column {start.column + 1} is never closed; "
                                "end the text with the same quote mark (YAML)")
    if "flow" in (getattr(e, "context", None) or "") and start is not None:
        opened = lines[start.line] if start.line < len(lines) else ""
        bracket = opened[start.column] if start.column < len(opened) else "["
        closing = {"[": "]", "{": "}"}.get(bracket, "]")
        return (mark.line + 1 if mark is not None else row + 1), (
            f"the {bracket} on line {start.line + 1}, column {start.column + 1}, is never closed with {closing}, "
            f"or an item in it needs quotes (YAML)")
    # An indentation slip: the parser notices on the line after, or at the slipped line itself.
    previous = [n for n in range(row) if lines[n].strip() and not lines[n].lstrip().startswith("#")]
    if previous and here.strip():
        above = _indent(lines[previous[-1]])
        if _indent(here) < above and ("expected key" in problem or "block end" in problem):
            return row + 1, (f"this line is indented less than the lines around it ({_spaces(_indent(here))}, "
                             f"the line above has {above}); line it up with the lines it belongs with (YAML)")
        if _indent(here) > above and "not allowed" in problem:
            return row + 1, (f"this line is indented more than the line above ({_spaces(_indent(here))}, "
                             f"the line above has {above}); line it up with it (YAML)")
    if "mapping values are not allowed" in problem:
        return row + 1, (f"column {col + 1}: a second ':' on this line; if the text holds a colon, "
                         "put the whole text in quotes (YAML)")
    context = getattr(e, "context", None)
    words = f"{context}, {problem}" if context else problem
    return row + 1, f"is not valid YAML at column {col + 1}: {words}"


class Node:
    """A YAML node with its line, and checked accessors that raise errors naming it."""

    def __init__(self, doc: Document, node: yaml.Node):
        doc.nodes_seen += 1
        if doc.nodes_seen > MAX_NODES:
            # Aliases can make a small file expand enormously (billion laughs).
            raise at(doc.path, node.start_mark.line + 1, "expands to too many elements (aliases repeated too often?)")
        self.doc = doc
        self.node = node
        self.line = node.start_mark.line + 1

    def error(self, message: str) -> VoicecoachError:
        """An error at this node's line."""
        return at(self.doc.path, self.line, message)

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.node, yaml.MappingNode)

    @property
    def is_sequence(self) -> bool:
        return isinstance(self.node, yaml.SequenceNode)

    @property
    def is_scalar(self) -> bool:
        return isinstance(self.node, yaml.ScalarNode)

    def scalar(self, what: str):
        """The Python value of a scalar node (None, bool, int, float or str)."""
        if not self.is_scalar:
            raise self.error(f"{what} must be a single value, not a {'list' if self.is_sequence else 'mapping'}")
        try:
            value = _scalars.construct_object(self.node)
        except (yaml.YAMLError, ValueError, OverflowError):
            raise self.error(f"{what} has a value that cannot be read") from None
        if not isinstance(value, (type(None), bool, int, float, str)):
            # Timestamps, binary and the like have no meaning in a script.
            return self.node.value
        return value

    def items(self, what: str) -> list[tuple[str, "Node", "Node"]]:
        """The (key, key node, value node) triples of a mapping; keys must be unique strings."""
        if not self.is_mapping:
            raise self.error(f"{what} must be a mapping of `key: value` lines")
        seen = set()
        out = []
        for key_node, value_node in self.node.value:
            key = Node(self.doc, key_node)
            name = key.scalar("a key") if key.is_scalar else None
            if not isinstance(name, str):
                raise key.error(f"{what} has a key that is not a plain name")
            if name in seen:
                raise key.error(f"{what} has `{name}` twice")
            seen.add(name)
            out.append((name, key, Node(self.doc, value_node)))
        return out

    def sequence(self, what: str) -> list["Node"]:
        """The items of a list node."""
        if not self.is_sequence:
            raise self.error(f"{what} must be a list (lines starting with `- `)")
        return [Node(self.doc, n) for n in self.node.value]
