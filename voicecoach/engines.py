"""Speech engines behind one small interface: list voices, render text -> samples at a known rate.

pyttsx3 (espeak-ng) is the default engine; festival and flite are command-line programs from
Debian main whose voices sound more natural. Each runs only when used, inside the same kind of
worker process that speech.render starts (with a timeout), and every engine's audio enters the
cache through speech.to_internal, so the rest of voicecoach never knows which engine spoke.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import VoicecoachError

DEFAULT_ENGINE = "pyttsx3"
FESTIVAL_VOICES = os.environ.get("VOICECOACH_FESTIVAL_VOICES", "/usr/share/festival/voices")
# Flite's limited-domain voices speak only what they were built for (awb_time: the time of day).
_LIMITED = {"awb_time"}
HTS_GAIN = 2.5
ONSET = 512               # about -36 dBFS


@dataclass(frozen=True)
class EngineVoice:
    """One voice of one engine, as `voicecoach voices` lists it."""
    engine: str
    id: str
    name: str
    languages: tuple[str, ...] = ()
    best: bool = False        # the engine's most natural voice

    @property
    def spec(self) -> str:
        return f"{self.engine}:{self.id}"


def start_at_speech(samples: np.ndarray) -> np.ndarray:
    """The samples from the first one at ONSET: the breathy lead-in before it is cut."""
    # These voices can open a word (an "h", a soft "b") with a murmur just above the trimming
    # threshold that takes 10-30 ms to become speech; starting where the speech does makes the
    # word sound on its cue (the timeline's onsets are checked to within 10 ms).
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= ONSET)
    return samples[loud[0]:] if len(loud) else samples


class Engine:
    """The interface: installed(), voices(), and synthesise() run inside a worker process."""
    name = ""
    install = ""
    best_voice: str | None = None
    native_wpm = 175          # the engine's own speaking rate, so a wpm rate maps to its stretch

    def installed(self) -> bool:
        raise NotImplementedError

    def voices(self) -> list[EngineVoice]:
        raise NotImplementedError

    def synthesise(self, voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        """Samples and their true rate for `text` (called in a worker process)."""
        raise NotImplementedError

    def require(self) -> None:
        """An error naming what to install when the engine is missing."""
        if not self.installed():
            raise VoicecoachError(f"the speech engine {self.name!r} is not installed: {self.install}")

    def resolve(self, wanted: str | None) -> str | None:
        """The voice id for a name the user gave (id, short name or language); unknown ones are errors."""
        if not wanted:
            return None
        voices = self.voices()
        w = wanted.strip().lower()
        for v in voices:
            if w in (v.id.lower(), v.name.lower()):
                return v.id
        for v in voices:
            if w in v.id.lower().split("_") or w in (lang.lower() for lang in v.languages):
                return v.id
        raise VoicecoachError(f"{self.name} has no voice {wanted!r}; pick one of: "
                              f"{', '.join(v.id for v in voices) or '(none installed)'}")

    def _run(self, args: list[str], text: str, timeout: float) -> tuple[np.ndarray, int]:
        """Run the engine with {text} and {wav} in `args` standing for a text file and the WAV it writes."""
        import tempfile
        from .speech import _read_wav, speakable
        # Files, not pipes: both engines seek back to finish the WAV header, and a pipe cannot.
        with tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as tmp:
            src, wav = os.path.join(tmp, "phrase.txt"), os.path.join(tmp, "phrase.wav")
            Path(src).write_text(speakable(text), encoding="utf-8")
            try:
                done = subprocess.run([a.format(text=src, wav=wav) for a in args], capture_output=True,
                                      timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"{self.name} did not finish the phrase") from None
            except FileNotFoundError:
                raise VoicecoachError(f"the speech engine {self.name!r} is not installed: {self.install}") from None
            if done.returncode != 0 or not os.path.exists(wav):
                raise VoicecoachError(f"{self.name} failed: {done.stderr.decode(errors='replace').strip()[:200]}")
            # These engines write their true rate in the header (16 kHz flite, 32 kHz slt-hts, ...).
            return _read_wav(wav, None)


class Pyttsx3(Engine):
    name = "pyttsx3"
    install = "sudo apt-get install espeak-ng, and pip install pyttsx3"

    def installed(self) -> bool:
        try:
            import pyttsx3  # noqa: F401
        except ImportError:
            return False
        import ctypes.util
        return ctypes.util.find_library("espeak-ng") is not None or not os.path.isdir("/usr/lib")

    def voices(self) -> list[EngineVoice]:
        from .speech import list_voices
        return [EngineVoice(self.name, v["id"], v["name"], tuple(v["languages"])) for v in list_voices()]

    def resolve(self, wanted: str | None) -> str | None:
        from .speech import list_voices, resolve_voice_name
        return resolve_voice_name(wanted, list_voices()) if wanted else None


class Festival(Engine):
    name = "festival"
    install = "sudo apt-get install festival festvox-us-slt-hts"
    best_voice = "cmu_us_slt_arctic_hts"
    native_wpm = 155          # slt-hts: measured against espeak-ng at 140 wpm on the same sentences

    def installed(self) -> bool:
        return shutil.which("text2wave") is not None and bool(self.voices())

    def voices(self) -> list[EngineVoice]:
        found = []
        for d in sorted(glob.glob(os.path.join(FESTIVAL_VOICES, "*", "*"))):
            p = Path(d)
            if (p / "festvox").is_dir():
                short = p.name.split("_")[2] if p.name.startswith("cmu_") else p.name.split("_")[0]
                found.append(EngineVoice(self.name, p.name, short, (p.parent.name,), p.name == self.best_voice))
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


class Flite(Engine):
    name = "flite"
    install = "sudo apt-get install flite"
    best_voice = "slt"
    native_wpm = 170

    def installed(self) -> bool:
        return shutil.which("flite") is not None

    def voices(self) -> list[EngineVoice]:
        if not self.installed():
            return []
        out = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=10).stdout
        names = out.split(":", 1)[-1].split()
        return [EngineVoice(self.name, n, n, ("en",), n == self.best_voice) for n in names if n not in _LIMITED]

    def synthesise(self, voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        stretch = self.native_wpm / float(voice.rate)
        samples, rate = self._run(["flite", "-voice", voice.name or self.best_voice, "--setf",
                                   f"duration_stretch={stretch:.4f}", "-f", "{text}", "-o", "{wav}"],
                                  text, timeout)
        return start_at_speech(samples), rate


ENGINES = {e.name: e for e in (Pyttsx3(), Festival(), Flite())}
# Most natural first: the default when nobody chose a voice.
PREFERENCE = ("festival", "flite", "pyttsx3")


def engine(name: str) -> Engine:
    """The engine called `name`; an unknown name is an error listing the known ones."""
    try:
        return ENGINES[name]
    except KeyError:
        raise VoicecoachError(f"there is no speech engine {name!r}; pick one of: {', '.join(ENGINES)}") from None


def split_spec(spec: str) -> tuple[str, str | None]:
    """`engine:voice` -> (engine, voice); an engine alone is its best voice; any other bare name is pyttsx3's."""
    head, sep, tail = spec.strip().partition(":")
    if not sep and head.strip().lower() in ENGINES:   # `festival` alone: that engine's best voice
        return head.strip().lower(), None
    if sep and "/" not in head:
        engine(head.strip().lower())
        return head.strip().lower(), (tail.strip() or None)
    return DEFAULT_ENGINE, spec.strip() or None


def resolve(spec: str) -> tuple[str, str | None]:
    """(engine, voice id) for `engine:voice` or a bare pyttsx3 name; missing engines and unknown voices are errors."""
    name, wanted = split_spec(spec)
    chosen = engine(name)
    chosen.require()
    return name, (chosen.resolve(wanted) if wanted else chosen.best_voice)


def best_available() -> tuple[str, str | None]:
    """The most natural installed voice: festival slt-hts, else flite slt, else espeak-ng's default."""
    for name in PREFERENCE:
        e = ENGINES[name]
        if e.installed() and (e.best_voice is None or any(v.id == e.best_voice for v in e.voices())):
            return name, e.best_voice
    return DEFAULT_ENGINE, None


# pyttsx3 offers over a hundred espeak-ng voices; a sample of each language would bury the
# comparison, so samples use the English ones a listener would pick between.
PYTTSX3_MAIN = ("gmw/en", "gmw/en-us", "gmw/en-gb-x-rp", "gmw/en-gb-scotland")


@dataclass(frozen=True)
class Listing:
    """One engine in `voicecoach voices`: its voices, or what to install."""
    engine: str
    installed: bool
    install: str
    voices: tuple[EngineVoice, ...] = ()


def listing() -> list[Listing]:
    """Every engine with every voice it has (an engine not installed names what to install)."""
    out = []
    for e in ENGINES.values():
        ok = e.installed()
        out.append(Listing(e.name, ok, e.install, tuple(e.voices()) if ok else ()))
    return out


def main_voices(found: list[Listing]) -> list[EngineVoice]:
    """The voices worth comparing: every festival and flite voice, and the main English espeak-ng ones."""
    chosen = []
    for item in found:
        for v in item.voices:
            if item.engine != "pyttsx3" or v.id in PYTTSX3_MAIN:
                chosen.append(v)
    return chosen


def write_samples(text: str, folder, voices: list[EngineVoice], rate: int, progress=None) -> list[Path]:
    """The same text in each voice, one WAV per voice in `folder`, named engine-voice.wav."""
    from .export import write_audio
    from .speech import Voice, render
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for v in voices:
        target = folder / (f"{v.engine}-{v.id}".replace("/", "-") + ".wav")
        # store() runs in the worker process, so it writes the file itself (atomically).
        render(Voice(engine=v.engine, name=v.id, rate=rate), [text],
               lambda _text, samples, target=target: write_audio(samples, target))
        written.append(target)
        if progress:
            progress(target)
    return written
