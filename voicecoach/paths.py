"""Where things live: the exercise library, the user's own scripts, the audio cache, the default session."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

DEFAULT_SCRIPT = "pelvic-floor-release.yaml"


def checkout_root() -> Path | None:
    """The voicecoach checkout this package runs from, if it runs from one."""
    root = Path(__file__).resolve().parent.parent
    pyproject = root / "pyproject.toml"
    try:
        if 'name = "voicecoach"' in pyproject.read_text(encoding="utf-8"):
            return root
    except OSError:
        pass
    return None


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """--cache-dir, else $VOICECOACH_CACHE, else the checkout's audio_cache/, else the user cache dir."""
    if explicit:
        return Path(explicit)
    if os.environ.get("VOICECOACH_CACHE"):
        return Path(os.environ["VOICECOACH_CACHE"])
    return own_cache_dirs()[0]


def own_cache_dirs() -> tuple[Path, ...]:
    """The cache folders voicecoach makes for itself, the default first: the checkout's audio_cache/, the user one."""
    # The checkout's folder ships with a README (git keeps nothing else there), so a folder of entries
    # alone is not the test for these two: they are voicecoach's whatever they hold.
    user = Path(platformdirs.user_cache_dir("voicecoach")) / "audio"
    root = checkout_root()
    return (root / "audio_cache", user) if root is not None else (user,)


def scripts_dir() -> Path:
    """The exercise library: the checkout's scripts/ when run from one, else the copy inside the package."""
    root = checkout_root()
    if root is not None and (root / "scripts").is_dir():
        return root / "scripts"
    # Installed (pip install ., pipx), the scripts are package data: voicecoach/scripts in the wheel,
    # a link to the checkout's scripts/ in the source tree, so that there is one copy of each.
    return Path(str(resources.files("voicecoach") / "scripts"))


def user_scripts_dir() -> Path:
    """The user's own scripts, listed beside the library and found by name like its scripts."""
    return data_dir() / "scripts"


def default_script() -> Path:
    """The session `voicecoach play` runs when given no script."""
    return scripts_dir() / DEFAULT_SCRIPT


def data_dir() -> Path:
    """The user data folder: the practice log, serve's exports, the user's own voices."""
    return Path(platformdirs.user_data_dir("voicecoach"))


def voices_dir() -> Path:
    """Where a user drops extra voice files (a Piper .onnx with its .onnx.json), listed by `voicecoach voices`."""
    return data_dir() / "voices"


def prepared_voices_dir() -> Path:
    """Where Piper voices are kept as onnxruntime prepares them to run, so that the next load skips that work."""
    return Path(platformdirs.user_cache_dir("voicecoach")) / "voices"


def packs_dir() -> Path:
    """Where recorded voice packs live (`voicecoach record --pack NAME`): one private folder each."""
    return data_dir() / "packs"


def config_dir() -> Path:
    """The user config folder (config.yaml)."""
    return Path(platformdirs.user_config_dir("voicecoach"))


def user_dirs() -> tuple[Path, ...]:
    """voicecoach's own folders among the user's data, config and cache folders: what it makes there is private."""
    return (data_dir(), config_dir(), Path(platformdirs.user_cache_dir("voicecoach")))


def in_user_dirs(path: str | os.PathLike) -> bool:
    """Whether `path` lies in one of voicecoach's folders under the user's data, config or cache folders."""
    target = Path(os.path.abspath(path))
    return any(target == root or root in target.parents for root in map(Path, map(os.path.abspath, user_dirs())))
