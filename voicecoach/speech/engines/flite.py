"""flite: the small, fast festival-lite engine and its slt voice."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from voicecoach.speech.clip import start_at_speech
from voicecoach.speech.engine import Engine, EngineVoice

# Flite's limited-domain voices speak only what they were built for (awb_time: the time of day).
_LIMITED = {"awb_time"}


SOUNDS = {"slt": "US female: light and quick, plainly synthetic"}


class Flite(Engine):
    name = "flite"
    install = "sudo apt-get install flite"
    program = "flite"
    check = 'flite -t "hello"'
    best_voice = "slt"
    native_wpm = 170

    def installed(self) -> bool:
        return shutil.which("flite") is not None

    def voices(self) -> list[EngineVoice]:
        if not self.installed():
            return []
        out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=10).stdout
        names = out.split(":", 1)[-1].split()
        return [EngineVoice(self.name, n, n, ("en",), n == self.best_voice, SOUNDS.get(n, "flite: small and fast, robotic"))
                for n in names if n not in _LIMITED]

    def synthesise(self, voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        stretch = self.native_wpm / float(voice.rate)
        samples, rate = self._run(["flite", "-voice", voice.name or self.best_voice, "--setf",
                                   f"duration_stretch={stretch:.4f}", "-f", "{text}", "-o", "{wav}"],
                                  text, timeout)
        return start_at_speech(samples), rate


ENGINE = Flite()
