"""voicecoach: voice-guided exercise scripts rendered to exactly timed audio."""

__version__ = "0.1.0"

from voicecoach.errors import VoicecoachError  # noqa: E402

__all__ = ["VoicecoachError", "__version__"]
