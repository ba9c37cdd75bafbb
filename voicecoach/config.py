"""The user's own settings: config.yaml in the user config directory (voice and rate)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from voicecoach.errors import VoicecoachError, at, shown
from voicecoach.exercise.document import Document

MIN_RATE, MAX_RATE = 60, 400


@dataclass(frozen=True)
class UserConfig:
    """Settings from config.yaml; None where the file says nothing."""
    path: Path | None = None
    voice: str | None = None
    voice_line: int = 0
    rate: int | None = None


def config_path() -> Path:
    """$VOICECOACH_CONFIG, else config.yaml in the user config directory."""
    explicit = os.environ.get("VOICECOACH_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir("voicecoach")) / "config.yaml"


def load_config(path: str | os.PathLike | None = None) -> UserConfig:
    """The settings in the user's config file; no file means no settings."""
    path = Path(path) if path is not None else config_path()
    if not path.is_file():
        return UserConfig()
    root = Document.load(path).root
    fields = {name: value for name, _, value in root.items("the config file")}
    unknown = sorted(set(fields) - {"voice", "rate"})
    if unknown:
        raise fields[unknown[0]].error(f"`{unknown[0]}` is not a setting; the config file knows voice and rate")
    voice = line = rate = None
    if "voice" in fields:
        node = fields["voice"]
        if node.is_mapping:   # the same shape as a script's `voice: {name: ...}`
            inner = {name: value for name, _, value in node.items("voice")}
            node = inner.get("name", node)
        voice, line = node.scalar("voice"), node.line
        if not isinstance(voice, str) or not voice.strip():
            raise node.error("voice must be a voice name such as festival:slt (see `voicecoach voices`)")
    if "rate" in fields:
        value = fields["rate"].scalar("rate")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not MIN_RATE <= value <= MAX_RATE:
            raise fields["rate"].error(f"rate must be words per minute, {MIN_RATE} to {MAX_RATE}, not {shown(value)}")
        rate = int(value)
    return UserConfig(path, voice.strip() if voice else None, line or 0, rate)


def checked_config(path: str | os.PathLike | None = None) -> UserConfig:
    """The settings in the config file with its voice looked up: any mistake is one error naming the file and line."""
    config = load_config(path)
    if config.voice:
        from voicecoach.speech.engines import resolve
        try:
            resolve(config.voice)
        except (VoicecoachError, OSError) as e:       # the words session.choose_voice gives, once
            raise at(config.path, config.voice_line, f"voice: {e}") from None
    return config
