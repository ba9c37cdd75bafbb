"""Shared fixtures: a private audio cache per test, a helper that writes small scripts, the joe voice and a user data folder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from voicecoach.cache import Cache
from voicecoach.speech.engines.piper import _joe

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


@pytest.fixture
def cache(tmp_path) -> Cache:
    """An empty phrase cache in a temporary folder."""
    return Cache(tmp_path / "cache")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Cache:
    """One cache for the whole run, for tests that only need rendered phrases, not a cold cache."""
    return Cache(tmp_path_factory.mktemp("shared-cache"))


@pytest.fixture
def write_script(tmp_path):
    """write_script(body, name=...) -> path of a script file; `body` is dedented YAML."""
    def write(body: str, name: str = "test.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        return path
    return write


@pytest.fixture(autouse=True)
def private_log(tmp_path, monkeypatch):
    """Every test gets its own practice log, so no test ever writes to the user's real one."""
    path = tmp_path / "practice" / "log.sqlite3"
    monkeypatch.setenv("VOICECOACH_DB", str(path))
    return path


@pytest.fixture(autouse=True)
def private_user_dirs(tmp_path_factory, monkeypatch):
    """The user data and config folders of each test's own (platformdirs reads XDG_*), never the user's real ones."""
    # Beside tmp_path, not in it: tests that list their tmp_path see only what they made.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))


@pytest.fixture(autouse=True, scope="session")
def private_cache_home(tmp_path_factory):
    """The user cache folder of the test run's own, shared by its tests (a Piper voice is prepared there once)."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(autouse=True, scope="session")
def pinned_voice(tmp_path_factory):
    """The user's own config.yaml never reaches a test, and sessions default to espeak-ng (fast, cold renders)."""
    # Nobody choosing a voice means the most natural installed one (piper joe renders about
    # 20 times slower than espeak-ng); tests/test_voices.py tests that choice and every engine itself.
    # Session-scoped, so that module- and session-scoped fixtures render with the same voice as tests.
    path = tmp_path_factory.mktemp("config") / "voicecoach-config.yaml"
    path.write_text("voice: pyttsx3\n", encoding="utf-8")
    before = os.environ.get("VOICECOACH_CONFIG")
    os.environ["VOICECOACH_CONFIG"] = str(path)
    yield path
    if before is None:
        os.environ.pop("VOICECOACH_CONFIG", None)
    else:
        os.environ["VOICECOACH_CONFIG"] = before


@pytest.fixture(scope="session")
def joe():
    found = _joe()
    assert found is not None, "the joe voice is part of the set-up (tools/setup.sh installs voicecoach[piper])"
    return found


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """A user data folder of the test's own (platformdirs reads XDG_DATA_HOME), with an empty voices folder."""
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    voices = home / "voicecoach" / "voices"
    voices.mkdir(parents=True)
    return voices
