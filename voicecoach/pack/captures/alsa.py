"""ALSA capture through pyalsaaudio: the microphone ALSA calls `default`, mono 16-bit at the rate asked for."""

from __future__ import annotations

import numpy as np

from voicecoach.errors import NO_AUDIO_DEVICE, VoicecoachError, shown
from voicecoach.player.outputs.simpleaudio import _quiet_stderr

PERIOD_MS = 10
CAPTURE_RATE = 48_000         # what microphones deliver natively; ALSA's plug layer converts when it must
NO_MICROPHONE = ("record elsewhere (a phone's recorder will do) and bring the files in with "
                 "`voicecoach pack import NAME FOLDER --consent TEXT`; `voicecoach pack phrases NAME SCRIPT` lists the file names")


class AlsaCapture:
    """Mono int16 from an ALSA capture device; each read one period (10 ms)."""

    def __init__(self, device: str = "default", rate: int = CAPTURE_RATE):
        try:
            import alsaaudio
        except ImportError:
            raise VoicecoachError(f"recording needs pyalsaaudio (pip install pyalsaaudio); or {NO_MICROPHONE}",
                                  exit_code=NO_AUDIO_DEVICE) from None
        self.rate = rate
        self._period = rate * PERIOD_MS // 1000
        try:
            with _quiet_stderr():
                self._pcm = alsaaudio.PCM(alsaaudio.PCM_CAPTURE, alsaaudio.PCM_NORMAL, device=device, channels=1,
                                          rate=rate, format=alsaaudio.PCM_FORMAT_S16_LE, periodsize=self._period)
        except alsaaudio.ALSAAudioError as e:
            raise VoicecoachError(f"no microphone could be opened ({shown(device)}: {e}); connect one and check it "
                                  f"is not muted (alsamixer), or {NO_MICROPHONE}", exit_code=NO_AUDIO_DEVICE) from None
        # ALSA may settle on another rate than asked for (a device without `plug` in front of it).
        got = self._pcm.info().get("rate", rate) if hasattr(self._pcm, "info") else rate
        self.rate = int(got) if isinstance(got, int) and got > 0 else rate
        self._alsa = alsaaudio

    def read(self) -> np.ndarray:
        try:
            n, data = self._pcm.read()
        except self._alsa.ALSAAudioError as e:
            raise VoicecoachError(f"the microphone stopped delivering sound ({e}); check it, or {NO_MICROPHONE}",
                                  exit_code=NO_AUDIO_DEVICE) from None
        if n <= 0:      # an overrun (-EPIPE): the period is lost, and ALSA has restarted the capture
            return np.zeros(0, dtype=np.int16)
        return np.frombuffer(data, dtype="<i2")[:n].astype(np.int16)

    def close(self) -> None:
        self._pcm.close()
