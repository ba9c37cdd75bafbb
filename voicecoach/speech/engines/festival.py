"""festival: Debian's festival with its HTS voices; slt-hts is the most natural voice Debian main has."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import numpy as np

from voicecoach.speech.clip import start_at_speech
from voicecoach.speech.engine import Engine, EngineVoice

FESTIVAL_VOICES = os.environ.get("VOICECOACH_FESTIVAL_VOICES", "/usr/share/festival/voices")


HTS_GAIN = 2.5


SOUNDS = {"cmu_us_slt_arctic_hts": "US female, statistical (HTS): clear and even, a little buzzy",
          "kal_diphone": "US male, joined recordings (diphones): flat and robotic"}


class Festival(Engine):
    name = "festival"
    install = "sudo apt-get install festival festvox-us-slt-hts"
    program = "festival"
    check = 'echo hello | festival --tts'
    best_voice = "cmu_us_slt_arctic_hts"
    # The rate at which festival's speed 1 speaks, as espeak-ng counts words per minute: measured on the
    # library's kind of sentence at 100, 140 and 180 wpm, slt-hts then lasts 0.93-1.02 of espeak-ng's time
    # (155, the first measure, made it 5-12 % quicker on some texts). Revision 2 renders at this pace.
    native_wpm = 164
    revision = 2

    def installed(self) -> bool:
        return shutil.which("text2wave") is not None and bool(self.voices())

    def voices(self) -> list[EngineVoice]:
        found = []
        for d in sorted(glob.glob(os.path.join(FESTIVAL_VOICES, "*", "*"))):
            p = Path(d)
            if (p / "festvox").is_dir():
                short = p.name.split("_")[2] if p.name.startswith("cmu_") else p.name.split("_")[0]
                found.append(EngineVoice(self.name, p.name, short, (p.parent.name,), p.name == self.best_voice,
                                         SOUNDS.get(p.name, "festival: plainly synthetic")))
        return found

    def synthesise(self, voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        vid = voice.name or self.best_voice
        speed = float(voice.rate) / self.native_wpm
        if vid.endswith("_hts"):
            # HTS voices ignore Duration_Stretch; hts_engine's own speed option (-r) applies.
            pace = f"(set! hts_engine_params (append hts_engine_params '((\"-r\" {speed:.4f}))))"
        else:
            pace = f"(Parameter.set 'Duration_Stretch {1 / speed:.4f})"
        samples, rate = self._run(["text2wave", "{text}", "-o", "{wav}", "-eval", f"(voice_{vid})", "-eval", pace],
                                  text, timeout)
        if vid.endswith("_hts"):
            # slt-hts speaks about 8 dB below the other voices, so its words rise slowly out of the
            # silence that trimming cuts; one fixed gain (never clipping) brings it level with them.
            peak = int(np.abs(samples.astype(np.int32)).max(initial=1))
            gain = min(HTS_GAIN, 30_000 / peak)
            samples = np.round(samples.astype(np.float32) * gain).astype(np.int16)
        return start_at_speech(samples), rate


ENGINE = Festival()
