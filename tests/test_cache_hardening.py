"""The cache touches only a folder it can tell is its own, only names it writes, and only regular files.

Anything that could block (a FIFO, a link to a device) runs in a subprocess with a time limit, so that a
regression fails here instead of hanging the suite."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach import paths
from voicecoach.cache import MARKER, Cache
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError

SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
KEY = "ab" + "c" * 62
LIMIT_S = 60        # a guard against a hang, not a measurement: each command takes about a second

TINY = "voicecoach: 1\ntitle: Tiny\nsteps:\n  - say: Hello there.\n  - pause: 0.2\n  - say: Breathe out.\n"


def _music(tmp_path: Path) -> tuple[Path, dict[Path, bytes]]:
    """A music folder as people keep them: discs in folders named 01 and cd, a cover, a JSON playlist."""
    root = tmp_path / "Music"
    files = {root / "01" / "track01.wav": b"RIFF....WAVEnot ours", root / "cd" / "notes.json": b'{"x": 1}',
             root / "cover.jpg": b"\xff\xd8", root / "ab" / f"{KEY}.wav": b"RIFF but a user's file"}
    for path, blob in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
    return root, files


def _cli(*args: str) -> subprocess.CompletedProcess:
    """The real command in its own process, given LIMIT_S to finish (a hang fails the test)."""
    def at_most_2_gb():             # a device read whole must fail, not take the machine's memory
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    return subprocess.run([sys.executable, "-m", "voicecoach.cli", *args], capture_output=True, text=True,
                          timeout=LIMIT_S, preexec_fn=at_most_2_gb)


def _untouched(files: dict[Path, bytes]) -> bool:
    return all(p.read_bytes() == blob for p, blob in files.items())


# ---------------------------------------------------------------- a folder that is not the cache

@pytest.mark.parametrize("command", [["cache", "verify"], ["cache", "prune", "--days", "0"]])
def test_upkeep_in_someone_elses_folder_refuses_and_deletes_nothing(tmp_path, command):
    root, files = _music(tmp_path)
    result = CliRunner().invoke(cli, ["--cache-dir", str(root), *command])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and str(root) in result.output and "not a voicecoach audio cache" in result.output
    assert _untouched(files) and not (root / MARKER).exists()


def test_rendering_into_someone_elses_folder_refuses_with_the_same_line(tmp_path):
    root, files = _music(tmp_path)
    script = tmp_path / "tiny.yaml"
    script.write_text(TINY)
    result = CliRunner().invoke(cli, ["--cache-dir", str(root), "export", str(script), "-o", str(tmp_path / "o.wav")])
    assert result.exit_code == 1 and "not a voicecoach audio cache" in result.output and str(root) in result.output
    assert _untouched(files) and sorted(p.name for p in root.iterdir()) == ["01", "ab", "cd", "cover.jpg"]
    with pytest.raises(VoicecoachError, match="not a voicecoach audio cache"):
        Cache(root).put("cd" * 32, np.zeros(10, np.int16))
    with pytest.raises(VoicecoachError, match="not a voicecoach audio cache"):
        Cache(root).get(KEY)              # read, it would have been removed as damaged
    assert _untouched(files)


def test_another_programs_cache_tag_is_not_ours(tmp_path):
    root = tmp_path / "target"
    (root / "ab").mkdir(parents=True)
    (root / MARKER).write_text(SIGNATURE + "\n# created by cargo\n")
    (root / "ab" / f"{KEY}.wav").write_bytes(b"someone else's")
    (root / "debug.log").write_text("x")
    with pytest.raises(VoicecoachError, match="not a voicecoach audio cache"):
        Cache(root).verify()
    assert (root / "ab" / f"{KEY}.wav").read_bytes() == b"someone else's"


def test_a_new_or_empty_folder_gets_the_tag_and_then_holds_only_cache_files(tmp_path):
    for root in (tmp_path / "new" / "cache", tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)
        cache = Cache(root)
        assert cache.get(KEY) is None and cache.samples(KEY) is None and cache.verify().checked == 0
        assert root.exists() == (root.name == "empty")      # reading makes no folder
        cache.put(KEY, np.zeros(10, np.int16))
        tag = (root / MARKER).read_text()
        assert tag.startswith(SIGNATURE + "\n") and "voicecoach" in tag
        assert sorted(p.name for p in root.iterdir()) == [MARKER, "ab"]


def test_a_cache_made_before_the_tag_is_adopted(tmp_path):
    root = tmp_path / "old"
    for key in ("00" * 32, "ab" * 32):       # what the previous version wrote: entries, a note, a temporary
        Cache(root).put(key, np.arange(100, dtype=np.int16))
    Cache(root).put_note("ab" * 32, {"gain": 1.0})
    (root / "ab" / ".abababab-x1y2z3_w.tmp").write_bytes(b"half")
    (root / MARKER).unlink()
    damaged = root / "00" / f"{'00' * 32}.wav"
    damaged.write_bytes(damaged.read_bytes()[:-3])
    result = CliRunner().invoke(cli, ["--cache-dir", str(root), "cache", "verify"])
    assert result.exit_code == 0 and "1 damaged and removed" in result.output
    assert (root / MARKER).read_text().startswith(SIGNATURE)
    assert Cache(root).get("ab" * 32) is not None


def test_the_checkouts_own_folder_with_its_readme_is_ours(tmp_path, monkeypatch):
    checkout = tmp_path / "checkout"
    (checkout / "audio_cache").mkdir(parents=True)
    readme = checkout / "audio_cache" / "README.md"          # what git keeps there
    readme.write_text("Rendered phrases live here.\n")
    monkeypatch.delenv("VOICECOACH_CACHE", raising=False)
    monkeypatch.setattr(paths, "checkout_root", lambda: checkout)
    root = paths.cache_dir()
    assert root == checkout / "audio_cache"
    Cache(root).put(KEY, np.zeros(10, np.int16))
    assert (root / MARKER).exists() and readme.exists()
    assert Cache(root).verify().checked == 1 and readme.exists()


def test_in_its_own_folder_the_cache_touches_only_names_it_writes(tmp_path):
    cache = Cache(tmp_path / "c")
    cache.put(KEY, np.zeros(10, np.int16))
    mine = {cache.root / "ab" / "take.wav": b"RIFF", cache.root / "ab" / ".hidden.tmp": b"x",
            cache.root / "ab" / f"{'ab' * 32}.wav.bak": b"x", cache.root / "notes.json": b"{}",
            cache.root / "AB" / f"{'AB' * 32}.wav": b"x", cache.root / "cd" / f"{'ab' * 32}.wav": b"x"}
    for path, blob in mine.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(blob)
        os.utime(path, (0, 0))
    assert cache.verify().removed == [] and cache.prune(0).removed == [cache.path(KEY)]
    assert _untouched(mine)


def test_a_linked_shard_is_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{'cd' * 32}.wav").write_bytes(b"not an entry")
    cache = Cache(tmp_path / "c")
    cache.put(KEY, np.zeros(10, np.int16))
    (cache.root / "cd").symlink_to(elsewhere)
    assert cache.verify().checked == 1 and cache.prune(0).checked == 1
    assert (elsewhere / f"{'cd' * 32}.wav").read_bytes() == b"not an entry"


# ---------------------------------------------------------------- things that are not files

def _filled(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """A cache filled by a real export of a two-phrase script: (cache folder, script, its entries)."""
    script, root = tmp_path / "tiny.yaml", tmp_path / "cache"
    script.write_text(TINY)
    done = _cli("--cache-dir", str(root), "export", str(script), "-o", str(tmp_path / "first.wav"))
    assert done.returncode == 0, done.stderr
    return root, script, sorted(root.glob("??/*.wav"))


def _make(kind: str, path: Path) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("zero", "urandom"):
        path.symlink_to(f"/dev/{kind}")
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        here = os.getcwd()
        os.chdir(path.parent)            # a socket's address holds at most 108 bytes: bind the bare name
        try:
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(path.name)
            sock.close()
        finally:
            os.chdir(here)


KINDS = ["fifo", "zero", "urandom", "folder", "socket"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "folder", "socket"])    # a device reads as empty, and always did
def test_a_render_takes_what_is_not_a_file_for_a_miss(tmp_path, kind):
    root, script, entries = _filled(tmp_path)
    for entry in entries:
        _make(kind, entry)
    again = _cli("--cache-dir", str(root), "export", str(script), "-o", str(tmp_path / "again.wav"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.wav").read_bytes() == (tmp_path / "first.wav").read_bytes()
    assert all(entry.is_file() and not entry.is_symlink() for entry in entries)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", [["verify"], ["prune", "--days", "9999"]])
def test_upkeep_reports_and_removes_what_is_not_a_file(tmp_path, kind, command):
    root, _, entries = _filled(tmp_path)
    _make(kind, entries[0])
    done = _cli("--cache-dir", str(root), "cache", *command)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stdout.splitlines() if str(entries[0]) in line]
    assert len(said) == 1 and "removed" in said[0], done.stdout
    assert not os.path.lexists(entries[0]) and all(e.is_file() for e in entries[1:])
    assert Path(f"/dev/{kind}").exists() if kind in ("zero", "urandom") else True


def test_a_folder_with_files_under_an_entrys_name_is_left_with_a_line(tmp_path):
    cache = Cache(tmp_path / "c")
    cache.put(KEY, np.zeros(10, np.int16))
    cache.path(KEY).unlink()
    cache.path(KEY).mkdir()
    (cache.path(KEY) / "keep.txt").write_text("mine")
    done = CliRunner().invoke(cli, ["--cache-dir", str(cache.root), "cache", "verify"])
    assert done.exit_code == 0 and "a folder, not a phrase file; left alone" in done.output
    assert (cache.path(KEY) / "keep.txt").read_text() == "mine"
    assert cache.get(KEY) is None                                  # a miss, not an error
    with pytest.raises(VoicecoachError, match="a folder with files in it stands where"):
        cache.put(KEY, np.zeros(10, np.int16))


def test_a_fifo_as_the_cache_tag_does_not_stall_and_is_not_taken_for_ours(tmp_path):
    root = tmp_path / "c"
    root.mkdir()
    os.mkfifo(root / MARKER)
    done = _cli("--cache-dir", str(root), "cache", "verify")
    assert done.returncode == 1 and "not a voicecoach audio cache" in done.stderr


def test_an_entry_past_the_size_cap_is_not_read(tmp_path):
    cache = Cache(tmp_path / "c")
    cache.put(KEY, np.zeros(10, np.int16))
    with open(cache.path(KEY), "r+b") as f:
        f.truncate(5 << 30)               # sparse: 5 GB that takes no disk, larger than any WAV can be
    code = ("import sys\nfrom pathlib import Path\nfrom voicecoach.cache import Cache\n"
            f"print(Cache(Path(sys.argv[1])).get({KEY!r}))\n")
    done = subprocess.run([sys.executable, "-c", code, str(cache.root)], capture_output=True, text=True,
                          timeout=LIMIT_S, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30,) * 2))
    assert done.returncode == 0 and done.stdout.strip() == "None", done.stderr
    assert not cache.path(KEY).exists()
