"""Finding 2 of the second hardening round: every folder voicecoach makes in the user's data, config or
cache folders is the owner's alone (0700), whoever makes it first; `log check` names what is not."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach import paths
from voicecoach.cache import Cache
from voicecoach.cli import cli
from voicecoach.files import make_dir, privacy_problems, private_dir
from voicecoach.phone import share
from voicecoach.practice.log import open_log, privacy_problems_of


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0o022)     # the usual umask, which makes folders 0755
    yield
    os.umask(old)


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("VOICECOACH_DB", raising=False)      # the log where a user's log lives
    return tmp_path


def test_every_folder_private_dir_makes_is_0700(tmp_path, open_umask):
    made = private_dir(tmp_path / "a" / "b" / "c")
    for folder in (tmp_path / "a", tmp_path / "a" / "b", made):
        assert mode(folder) == 0o700
    assert mode(tmp_path) != 0o777 and private_dir(made) == made      # existing folders are left as they are


def test_make_dir_is_private_in_the_user_folders_only(tmp_path, user_dirs, open_umask):
    inside = make_dir(paths.data_dir() / "serve" / "program")
    assert [mode(p) for p in (paths.data_dir(), paths.data_dir() / "serve", inside)] == [0o700] * 3
    elsewhere = make_dir(tmp_path / "Music" / "voicecoach")
    assert mode(elsewhere) == 0o755


@pytest.mark.slow
def test_serve_first_then_the_log_in_a_private_folder(tmp_path, user_dirs, open_umask, shared_cache):
    # The reported order: serve (without --dir) makes the data folder, and the log comes later.
    from voicecoach.export.program import export_program
    script = tmp_path / "tiny.yaml"
    script.write_text(textwrap.dedent("""
        voicecoach: 1
        title: Tiny
        steps:
          - say: Hello.
    """).lstrip(), encoding="utf-8")
    done = export_program(script, share.default_folder(script, False), shared_cache, fmt="mp3")
    for folder in (paths.data_dir(), share.data_folder(), done.folder):
        assert mode(folder) == 0o700, folder
    with open_log() as log:
        log.add("trainer", size=1)
        assert log.path.parent == paths.data_dir()
        assert log.check() == []


def test_the_user_cache_folder_is_private(user_dirs, open_umask, monkeypatch):
    root = paths.user_dirs()[2] / "audio"
    cache = Cache(root)
    cache.put("ab" + "0" * 62, np.zeros(24, np.int16))
    for folder in (paths.user_dirs()[2], root, root / "ab"):
        assert mode(folder) == 0o700, folder


def test_log_check_names_an_open_folder_and_file_and_its_fix_works(user_dirs, open_umask):
    assert CliRunner().invoke(cli, ["log", "trainer", "--size", "1"]).exit_code == 0
    data = paths.data_dir()
    # What an earlier version left: the data folder 0755, an exported session 0644 in it.
    os.chmod(data, 0o755)
    (data / "serve").mkdir(mode=0o755)
    os.chmod(data / "serve", 0o755)
    (data / "serve" / "01 Belly breathing.mp3").write_bytes(b"ID3")
    check = CliRunner().invoke(cli, ["log", "check"])
    assert check.exit_code == 1
    assert str(data) in check.output and "can be read by other users" in check.output
    commands = re.findall(r"`(chmod [^`]+)`", check.output)
    assert commands
    for command in commands:
        subprocess.run(command, shell=True, check=True)
    again = CliRunner().invoke(cli, ["log", "check"])
    assert again.exit_code == 0 and "sound, 1 entries" in again.output, again.output
    assert privacy_problems_of() == []


def test_one_open_file_gets_its_own_command(tmp_path):
    path = tmp_path / "log.sqlite3"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    [problem] = privacy_problems([path])
    assert f"`chmod 600 {path}`" in problem and "mode 644" in problem
