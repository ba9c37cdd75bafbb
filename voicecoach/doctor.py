"""`voicecoach doctor`: what this machine has for voicecoach, each problem with its fix."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from voicecoach import paths
from voicecoach.cache import Cache
from voicecoach.errors import VoicecoachError


@dataclass(frozen=True)
class Check:
    what: str              # "speech", "ffmpeg", "audio device", ...
    ok: bool
    detail: str            # what was found, where, how big
    fix: str = ""          # what to do when it is not ok
    needed: bool = True    # a needed check that fails makes `doctor` exit non-zero


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def speech() -> list[Check]:
    """Each engine: installed with how many voices, or what installs it; one is needed; then the default voice."""
    from voicecoach.speech.engines import listing, shown_engine
    found = listing()
    out = [Check(f"speech: {shown_engine(item.engine)}", item.installed,
                 f"{len(item.voices)} voice(s)" if item.installed else "not installed",
                 "" if item.installed else item.install, needed=False) for item in found]
    if not any(item.installed for item in found):
        out.append(Check("speech", False, "no speech engine is installed", found[-1].install if found else ""))
    else:
        out.append(default_voice())
    return out


def default_voice() -> Check:
    """The voice a session uses when neither the command line nor the script names one, and where that comes from."""
    from voicecoach.config import checked_config, config_path
    from voicecoach.speech.engines import best_available
    best = "{}:{}".format(*best_available()).removesuffix(":None")
    try:
        chosen = checked_config()
    except VoicecoachError:
        return Check("default voice", True, f"{best}, the most natural installed voice (your config file "
                     "cannot be used: see \"config file\")")
    if chosen.voice:
        return Check("default voice", True, f"{chosen.voice}, from your config file ({chosen.path}, line "
                     f"{chosen.voice_line})")
    return Check("default voice", True, f"{best}, the most natural installed voice (`voice:` in {config_path()} "
                 "chooses another)")


def voice_files() -> Check:
    """The user's own Piper voices: each file there that cannot be used, with why."""
    from voicecoach.speech.engines.piper import folder_problems
    folder = paths.voices_dir()
    problems = folder_problems()
    if not problems:
        return Check("your voices", True, f"{folder} (a Piper .onnx you add goes here, with its .onnx.json)",
                     needed=False)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Check("your voices", False, f"{len(problems)} voice file(s) left out of `voicecoach voices`: "
                 f"{problems[0]}{more}", f"download each again, or remove it from {folder}", needed=False)


def config() -> Check:
    """The config file: where it is, and whether it reads and its voice exists."""
    from voicecoach.config import checked_config, config_path
    path = config_path()
    if not path.is_file():
        return Check("config file", True, f"{path} (none yet; it may hold `voice:` and `rate:`)")
    try:
        chosen = checked_config(path)
    except VoicecoachError as e:
        return Check("config file", False, str(e), f"correct or remove {path}")
    rate = f", rate: {chosen.rate} words a minute" if chosen.rate else ""
    return Check("config file", True, f"{path} (voice: {chosen.voice or 'the default'}{rate})")


def ffmpeg() -> Check:
    """ffmpeg, which every export needs, and where its filters run when mastering."""
    from voicecoach.audio import libavfilter
    found = shutil.which("ffmpeg")
    if found is None:
        return Check("ffmpeg", False, "not found", "install it (Debian/Ubuntu: sudo apt-get install ffmpeg)")
    lib = libavfilter.library()
    where = f"its filters run in voicecoach ({lib.name})" if lib else "its filters run as the ffmpeg program"
    return Check("ffmpeg", True, f"{found}; {where}")


def audio_device() -> Check:
    """The sound card `play` uses; without one, export still works."""
    from voicecoach.player.outputs.simpleaudio import SimpleaudioOutput
    try:
        SimpleaudioOutput().close()
    except VoicecoachError as e:
        return Check("audio device", False, str(e).split(";")[0],
                     "plug in or switch on a sound device, or write a session to a file and play it elsewhere: "
                     f"`voicecoach export {Path(paths.DEFAULT_SCRIPT).stem} -o session.mp3`", needed=False)
    return Check("audio device", True, "the default sound device opens")


def library() -> Check:
    """The exercise library and the user's own scripts."""
    folder = paths.scripts_dir()
    scripts = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    own = paths.user_scripts_dir()
    mine = len(list(own.glob("*.yaml"))) if own.is_dir() else 0
    if not scripts:
        return Check("exercise library", False, f"{folder}: no scripts", "reinstall voicecoach (pip install .)")
    return Check("exercise library", True, f"{folder}: {len(scripts)} files; your own: {mine} in {own}")


def cache(root: Path) -> Check:
    """The phrase cache: where, how big."""
    if not root.exists():
        return Check("phrase cache", True, f"{root} (empty; filled as sessions are rendered)")
    info = Cache(root).info()
    writable = os.access(root, os.W_OK)
    return Check("phrase cache", writable, f"{root}: {info.count} phrase(s), {_size(info.bytes)}",
                 "" if writable else f"make {root} writable, or choose another with --cache-dir")


def practice_log(path: Path) -> Check:
    """The practice log: where, how big, and that only its owner can read it."""
    if not path.exists():
        return Check("practice log", True, f"{path} (none yet; playing a session starts it)")
    # The check `log check` makes, on the log itself: its folder, the file and SQLite's side files.
    from voicecoach.files import privacy_problems
    from voicecoach.practice.log import SIDE_FILES
    problems = privacy_problems([path.parent], tree=False)
    problems += privacy_problems([path] + [path.with_name(path.name + side) for side in SIDE_FILES])
    detail = f"{path}: {_size(path.stat().st_size)}, mode {stat.S_IMODE(path.stat().st_mode):o}"
    if problems:
        return Check("practice log", False, detail, "; ".join(problems))
    return Check("practice log", True, detail + ", readable by you only")


def checks(cache_root: Path, log_path: Path) -> list[Check]:
    """Everything doctor looks at, in the order a session needs it."""
    return [*speech(), voice_files(), config(), ffmpeg(), audio_device(), library(), cache(cache_root), practice_log(log_path)]
