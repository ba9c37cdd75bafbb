"""The package's layers, written down once, and checked: imports (lazy ones too) only run downwards."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voicecoach"

# Bottom to top. A module may import from its own layer or any layer below, never from above.
# Each entry is a module or a subpackage, by its dotted name under voicecoach.
LAYERS = (
    ("errors", "units", "discreet"),
    ("files", "paths"),
    ("exercise",),
    ("speech",),
    ("audio",),
    ("cache", "config"),
    ("stream",),
    ("session", "handsfree", "catalogue", "samples"),
    ("practice",),
    ("export", "player", "testing", "doctor"),
    ("pack",),
    ("phone",),
    ("cli",),
)


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, name: str, is_package: bool) -> set[str]:
    """Every voicecoach module `source` imports, anywhere in it (inside functions too), without the prefix."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(["voicecoach", *base, *([node.module] if node.module else [])]).rstrip(".")
            else:
                module = node.module or ""
            found.add(module)
            # `from voicecoach.audio import ffmpeg` imports the module voicecoach.audio.ffmpeg
            found |= {f"{module}.{a.name}" for a in node.names}
    return {m[len("voicecoach."):] for m in found if m.startswith("voicecoach.")}


def layer_of(module: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer):
            return i
    return None


def modules() -> dict[str, tuple[str, bool]]:
    return {module_name(p): (p.read_text(encoding="utf-8"), p.name == "__init__.py")
            for p in PACKAGE.rglob("*.py")}


def upward(found: dict[str, tuple[str, bool]]) -> list[str]:
    """Imports that run up the layers, as 'a -> b' lines."""
    known = set(found)
    wrong = []
    for name, (source, is_package) in found.items():
        here = layer_of(name)
        for target in sorted(imported(source, name, is_package) & known):
            there = layer_of(target)
            if here is not None and there is not None and there > here:
                wrong.append(f"{name} (layer {here}) -> {target} (layer {there})")
    return wrong


def cycles(found: dict[str, tuple[str, bool]]) -> list[list[str]]:
    """Import circles between modules (a package importing its own submodules does not count)."""
    known = set(found)
    graph = {name: {t for t in imported(src, name, pkg) & known if t != name and not t.startswith(name + ".")
                    and not (name.startswith(t + ".") and found[t][1])}
             for name, (src, pkg) in found.items()}
    circles, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return circles


def test_every_module_has_a_layer():
    assert [name for name in modules() if name and layer_of(name) is None] == []


def test_imports_only_run_down_the_layers():
    assert upward(modules()) == []


def test_no_import_circles():
    assert cycles(modules()) == []


def test_the_check_catches_an_upward_import_even_inside_a_function():
    found = modules()
    source, is_package = found["speech.pool"]
    found["speech.pool"] = (source + textwrap.dedent("""
        def sneaky():
            from voicecoach.export.formats import write_audio
    """), is_package)
    assert upward(found) == [f"speech.pool (layer {layer_of('speech.pool')}) -> export.formats "
                             f"(layer {layer_of('export.formats')})"]


@pytest.mark.parametrize("line", ["from ..session import prepare", "from voicecoach import session"])
def test_the_check_reads_relative_and_package_imports(line):
    found = {"speech.pool": (line + "\n", False), "session": ("", False)}
    assert upward(found) == [f"speech.pool (layer {layer_of('speech.pool')}) -> session (layer {layer_of('session')})"]


def test_the_check_finds_a_circle():
    found = {"audio.mix": ("from voicecoach.audio import tones\n", False),
             "audio.tones": ("from voicecoach.audio.mix import BLOCK_MS\n", False)}
    assert cycles(found) == [["audio.mix", "audio.tones", "audio.mix"]]
