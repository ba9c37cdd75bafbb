"""Playing a session through the sound card (simpleaudio)."""

from __future__ import annotations

import numpy as np

from .errors import NO_AUDIO_DEVICE, VoicecoachError
from .speech import RATE


def play_samples(samples: np.ndarray) -> None:
    """Play mono int16 samples at RATE to the end; Ctrl-C stops the sound at once."""
    try:
        import simpleaudio
    except ImportError:
        raise VoicecoachError("playing needs simpleaudio (pip install simpleaudio); "
                              "or write a file with `voicecoach export`") from None
    data = np.ascontiguousarray(samples, dtype=np.int16)
    try:
        handle = simpleaudio.play_buffer(data, 1, 2, RATE)
    except Exception as e:
        raise VoicecoachError(f"no audio device to play on ({e}); "
                              "write the session to a file instead with `voicecoach export`",
                              exit_code=NO_AUDIO_DEVICE) from None
    try:
        handle.wait_done()
    finally:
        handle.stop()
