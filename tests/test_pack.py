"""Voice packs: cleaning takes, speaking a pack (recorded phrases exactly, the fallback for the rest, timed as
`show` says), importing recordings and shared packs, and one line for every bad file."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import wave
import zipfile
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soxr
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.pack import clean as cleaning
from voicecoach.pack import store
from voicecoach.pack.phrases import stems
from voicecoach.session import prepare
from voicecoach.speech import packs
from voicecoach.speech.engines import resolve
from voicecoach.speech.voice import Voice
from voicecoach.testing import synthesise_in_worker
from voicecoach.units import RATE, SAMPLES_PER_MS

ESPEAK = Voice("pyttsx3", None)
CONSENT = "my own voice"


def speech(text: str, rate: int = RATE) -> np.ndarray:
    """`text` spoken by espeak-ng, trimmed to its audible edges, as float samples at `rate`."""
    samples, native = synthesise_in_worker(ESPEAK, text)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= 256)
    x = samples[loud[0]: loud[-1] + 1].astype(np.float32)
    return soxr.resample(x, native, rate, quality="HQ").astype(np.float64) if rate != native else x.astype(np.float64)


def recording(words: np.ndarray, rate: int, gain: float = 0.3, pre_s: float = 0.6, post_s: float = 1.2,
              noise: float = 30.0, seed: int = 1) -> tuple[np.ndarray, int, int]:
    """`words` as a microphone hears them: silence with a little hiss around them; (int16, speech start, end)."""
    rng = np.random.default_rng(seed)
    pre, post = int(pre_s * rate), int(post_s * rate)
    x = np.concatenate([np.zeros(pre), words * gain, np.zeros(post)])
    x += rng.normal(0, noise, len(x))
    return np.clip(np.round(x), -32768, 32767).astype(np.int16), pre, pre + len(words)


def located(take: np.ndarray, source: np.ndarray) -> int:
    """Where `take` (at RATE) lies in `source` (at RATE), by cross-correlation."""
    a, b = source.astype(np.float64), take.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    return int(np.argmax(corr[: len(a) - len(b) + 1]))


def lufs(samples: np.ndarray) -> float:
    return pyloudnorm.Meter(RATE).integrated_loudness(samples.astype(np.float64) / 32768.0)


def make_pack(name: str, texts, consent: str = CONSENT, gain: float = 0.3) -> packs.Pack:
    pack = store.open_pack(name, create=True, consent=consent)
    for text in texts:
        raw, _, _ = recording(speech(text, 48_000), 48_000, gain=gain)
        cleaned = cleaning.clean(raw, 48_000, pack.loudness)
        assert cleaned.usable and not cleaned.problems, cleaned.problems
        pack = store.keep(pack, text, cleaned.samples)
    return pack


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# ---------------------------------------------------------------- cleaning


@pytest.mark.parametrize("text, rate, gain", [
    ("Breathe in slowly, and let it go.", 48_000, 0.3),
    ("Tighten", 44_100, 0.1),
    ("Hold it there, still and easy.", 16_000, 0.8),
    ("one", 48_000, 0.05),
])
def test_a_take_is_trimmed_to_the_words_and_brought_to_the_pack_loudness(text, rate, gain):
    words = speech(text, rate)
    raw, start, end = recording(words, rate, gain=gain)
    cleaned = cleaning.clean(raw, rate)
    assert cleaned.problems == ()
    source = soxr.resample(raw.astype(np.float32), rate, RATE, quality="HQ")
    at = located(cleaned.samples, source)
    # The kept take starts and ends within 20 ms of where the words do.
    assert abs(at - start * RATE / rate) <= 20 * SAMPLES_PER_MS, (at, start * RATE / rate)
    assert abs(at + len(cleaned.samples) - end * RATE / rate) <= 20 * SAMPLES_PER_MS
    if len(cleaned.samples) >= RATE:
        # pyloudnorm counts a last, cut-off 400-ms block as a whole one (np.round of the block count): on a
        # 0.56-s word that alone made 1 LU; on a second or more of speech it is the reference meter.
        assert abs(lufs(cleaned.samples) - packs.LOUDNESS_LUFS) <= 1.0
    assert abs(cleaning.take_loudness(cleaned.samples) - packs.LOUDNESS_LUFS) <= 1.0
    # The pack's own meter agrees with pyloudnorm wherever the blocks fall alike (a whole number of 100 ms).
    whole = cleaned.samples[: len(cleaned.samples) // 2400 * 2400]
    if len(whole) >= 0.4 * RATE:
        assert abs(cleaning.take_loudness(whole) - lufs(whole)) <= 0.1
    # No click: the very first and last samples are near silence, not mid-waveform.
    assert abs(int(cleaned.samples[0])) < 2000 and abs(int(cleaned.samples[-1])) < 2000


def test_the_natural_tail_of_a_voice_dying_away_is_kept():
    words = speech("And slowly out", RATE)
    decay = np.sin(np.arange(int(0.12 * RATE)) * 2 * np.pi * 180 / RATE) * np.linspace(3000, 60, int(0.12 * RATE))
    raw, start, end = recording(np.concatenate([words, decay]), RATE)
    cleaned = cleaning.clean(raw, RATE)
    at = located(cleaned.samples, raw)
    assert at + len(cleaned.samples) >= end - 30 * SAMPLES_PER_MS


@pytest.mark.parametrize("case, sentence", [
    ("clipped", cleaning.CLIPPED_TEXT),
    ("quiet", cleaning.QUIET_TEXT),
    ("noise", cleaning.NOISE_TEXT),
    ("nothing", cleaning.NOTHING_TEXT),
])
def test_a_poor_take_is_named_in_a_plain_sentence(case, sentence):
    words = speech("Breathe in slowly, and let it go.", RATE)
    raw = {
        "clipped": lambda: recording(words, RATE, gain=4.0)[0],
        "quiet": lambda: recording(words, RATE, gain=0.002, noise=1.0)[0],
        "noise": lambda: recording(words, RATE, gain=0.3, noise=800.0)[0],
        "nothing": lambda: recording(words, RATE, gain=0.0)[0],
    }[case]()
    cleaned = cleaning.clean(raw, RATE)
    assert sentence in cleaned.problems
    assert all("\n" not in p and p.endswith(".") for p in cleaned.problems)
    assert cleaned.usable == (case != "nothing")


# ---------------------------------------------------------------- speaking a pack

SCRIPT = """
voicecoach: 1
title: Pack test
steps:
  - say: Welcome to this short practice.
  - pause: 1
  - breathe: {in: 4, out: 5, cycles: 2, cues: {in: Breathe in, out: And slowly out}}
  - say: Tighten
  - pause: 2
  - say: Well done.
"""


@pytest.fixture
def two_takes(data_home):
    return make_pack("test-voice", ["Breathe in", "And slowly out", "Tighten"])


def test_a_session_speaks_the_recorded_samples_and_the_fallback_voice_for_the_rest(two_takes, write_script, cache,
                                                                                 tmp_path):
    path = write_script(SCRIPT)
    session = prepare(path, cache, voice="recorded:test-voice:pyttsx3")
    plain = prepare(path, cache, voice="pyttsx3")
    for text in ("Breathe in", "And slowly out", "Tighten"):
        assert np.array_equal(session.clips[text], packs.read_take(two_takes, two_takes.take(text))), text
    for text in ("Welcome to this short practice.", "Well done."):
        assert np.array_equal(session.clips[text], plain.clips[text]), text
    # `render` writes the session as played: each recorded phrase sits there sample for sample.
    out = tmp_path / "s.wav"
    result = invoke("--cache-dir", cache.root, "render", path, "--voice", "recorded:test-voice:pyttsx3", "-o", out)
    assert result.exit_code == 0, result.output
    with wave.open(str(out)) as w:
        assert w.getframerate() == RATE
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    checked = 0
    for cue in session.timeline.cues:
        if cue.kind == "speech" and two_takes.take(cue.text):
            take = session.clips[cue.text]
            at = cue.start * SAMPLES_PER_MS
            assert np.array_equal(samples[at: at + len(take)], take), cue
            checked += 1
    assert checked == 5


def test_cues_of_an_exported_pack_session_sound_within_10_ms_of_show(two_takes, write_script, cache, tmp_path):
    path, out = write_script(SCRIPT), tmp_path / "s.wav"
    shown = invoke("--cache-dir", cache.root, "show", path, "--json", "--voice", "recorded:test-voice:pyttsx3")
    assert shown.exit_code == 0, shown.output
    timeline = json.loads(shown.output)
    result = invoke("--cache-dir", cache.root, "export", path, "--voice", "recorded:test-voice:pyttsx3", "-o", out)
    assert result.exit_code == 0, result.output
    with wave.open(str(out)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
    cues = [c for c in timeline["cues"] if c["kind"] == "speech"]
    assert len(cues) == 7
    for cue in cues:
        start = round(cue["start"] * 1000)      # show --json gives seconds
        at = start * SAMPLES_PER_MS
        before = min(start, 60)
        window = samples[at - before * SAMPLES_PER_MS: at + 60 * SAMPLES_PER_MS]
        found = start - before + np.flatnonzero(np.abs(window) >= 256)[0] / SAMPLES_PER_MS
        assert abs(found - start) <= 10, cue


def test_a_new_take_makes_new_audio_and_the_old_take_file_goes(two_takes, write_script, cache):
    path = write_script(SCRIPT)
    before = resolve("recorded:test-voice:pyttsx3")
    first = prepare(path, cache, voice="recorded:test-voice:pyttsx3").clips["Tighten"]
    old_file = packs.take_path(two_takes, two_takes.take("Tighten"))
    raw, _, _ = recording(speech("Tighten, gently", 48_000), 48_000)
    pack = store.keep(two_takes, "Tighten", cleaning.clean(raw, 48_000).samples)
    assert resolve("recorded:test-voice:pyttsx3") != before
    second = prepare(path, cache, voice="recorded:test-voice:pyttsx3").clips["Tighten"]
    assert not np.array_equal(first, second)
    assert np.array_equal(second, packs.read_take(pack, pack.take("Tighten")))
    assert not old_file.exists() and sorted(p.name for p in (pack.folder / "takes").iterdir()) == sorted(
        Path(t.file).name for t in pack.takes.values())


def test_a_recorded_cue_too_long_for_its_interval_is_refused_before_playing(data_home, write_script, cache):
    pack = store.open_pack("slow", create=True, consent=CONSENT)
    long = cleaning.clean(recording(speech("Breathe in, slowly, slowly, all the way in, and more", RATE),
                                    RATE)[0], RATE).samples
    assert len(long) > 3 * RATE
    store.keep(pack, "Breathe in", long)
    path = write_script("""
        voicecoach: 1
        title: Quick
        steps:
          - breathe: {in: 2, out: 4, cycles: 1, cues: {in: Breathe in, out: Out}}
    """)
    result = invoke("--cache-dir", cache.root, "show", path, "--voice", "recorded:slow:pyttsx3")
    assert result.exit_code == 1
    assert "Breathe in" in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_recorded_alone_or_an_unknown_pack_is_one_line(data_home, write_script, cache):
    path = write_script(SCRIPT)
    for voice, words in (("recorded", "name the voice pack"), ("recorded:nobody", "no voice pack 'nobody'"),
                         ("recorded:Bad/Name", "cannot name a voice pack")):
        result = invoke("--cache-dir", cache.root, "show", path, "--voice", voice)
        assert result.exit_code == 1 and words in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- bad files in a pack


def _break(kind: str, where: Path) -> None:
    where.unlink()
    if kind == "damaged":
        where.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    elif kind == "not audio":
        where.write_text("these are my notes, not a recording\n")
    elif kind == "fifo":
        os.mkfifo(where)
    elif kind == "folder":
        where.mkdir()
    elif kind == "link":
        where.symlink_to("/etc/hostname")


@pytest.mark.parametrize("kind", ["damaged", "not audio", "fifo", "folder", "link", "missing"])
def test_a_bad_take_file_is_one_line_naming_it(two_takes, write_script, cache, kind):
    where = packs.take_path(two_takes, two_takes.take("Tighten"))
    _break(kind, where)
    result = invoke("--cache-dir", cache.root, "show", write_script(SCRIPT), "--voice", "recorded:test-voice:pyttsx3")
    assert result.exit_code == 1, result.output
    assert str(where) in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_a_damaged_manifest_is_one_line_naming_it(two_takes, write_script, cache):
    manifest = two_takes.folder / packs.MANIFEST
    manifest.write_text('{"format": 1, "takes": {"x": ', encoding="utf-8")
    result = invoke("--cache-dir", cache.root, "show", write_script(SCRIPT), "--voice", "recorded:test-voice")
    assert result.exit_code == 1 and str(manifest) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_pack_is_private_and_names_nobody_but_what_was_typed(two_takes):
    assert os.stat(two_takes.folder).st_mode & 0o777 == 0o700
    for p in two_takes.folder.rglob("*"):
        assert os.stat(p).st_mode & 0o077 == 0, p
    text = (two_takes.folder / packs.MANIFEST).read_text(encoding="utf-8")
    for private in {os.environ.get("USER", ""), os.environ.get("LOGNAME", ""), str(Path.home()),
                    str(two_takes.folder)} - {""}:
        assert private not in text
    assert CONSENT in text


# ---------------------------------------------------------------- import and share


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def _encoded(wav: Path, suffix: str) -> Path:
    out = wav.with_suffix(suffix)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(out)], check=True)
    wav.unlink()
    return out


def test_pack_phrases_then_import_a_folder_of_wav_flac_and_mp3(data_home, write_script, cache, tmp_path):
    path = write_script(SCRIPT)
    result = invoke("pack", "phrases", "physio", path, "-o", tmp_path / "list.txt")
    assert result.exit_code == 0, result.output
    listed = store.read_list(tmp_path / "list.txt")
    assert set(listed.values()) == {"Welcome to this short practice.", "Breathe in", "And slowly out", "Tighten",
                                    "Well done."}
    folder = tmp_path / "from-the-physio"
    folder.mkdir()
    by_text = {text: stem for stem, text in listed.items()}
    for text, suffix in (("Breathe in", ".wav"), ("And slowly out", ".flac"), ("Tighten", ".mp3")):
        raw, _, _ = recording(speech(text, 44_100), 44_100)
        _write_wav(folder / f"{by_text[text]}.wav", raw, 44_100)
        if suffix != ".wav":
            _encoded(folder / f"{by_text[text]}.wav", suffix)
    (folder / "holiday.mp3").write_bytes(b"")          # named by no phrase: left out, said so
    result = invoke("pack", "import", "physio", folder, "--consent", "recorded by my physio, with her agreement")
    assert result.exit_code == 0, result.output
    assert "Imported 3 phrases" in result.output and "holiday.mp3" in result.output
    pack = packs.load("physio")
    assert set(pack.takes) == {"Breathe in", "And slowly out", "Tighten"}
    assert pack.missing() == ["Welcome to this short practice.", "Well done."]
    assert {t.consent for t in pack.takes.values()} == {"recorded by my physio, with her agreement"}
    for take in pack.takes.values():
        samples = packs.read_take(pack, take)
        assert abs(cleaning.take_loudness(samples) - pack.loudness) <= 1.0
    session = prepare(path, cache, voice="recorded:physio:pyttsx3")
    assert np.array_equal(session.clips["Tighten"], packs.read_take(pack, pack.take("Tighten")))
    listing = invoke("voices")
    assert listing.exit_code == 0, listing.output
    packs_part = " ".join(listing.output.split("Recorded voice packs", 1)[-1].split())
    assert "recorded:physio 3 phrases recorded, 2 of its list missing" in packs_part, listing.output
    section = listing.output.split("Recorded voice packs", 1)[-1].splitlines()
    assert [line for line in section if len(line) > 80] == []


@pytest.mark.parametrize("kind", ["damaged", "not audio", "fifo", "folder", "empty"])
def test_each_bad_file_in_an_import_is_one_line_and_the_rest_are_imported(data_home, write_script, tmp_path, kind):
    path = write_script(SCRIPT)
    assert invoke("pack", "phrases", "p", path).exit_code == 0
    stems = {text: stem for stem, text in store.read_list(packs.folder_of("p") / packs.PHRASE_LIST).items()}
    folder = tmp_path / "in"
    folder.mkdir()
    raw, _, _ = recording(speech("Tighten", 48_000), 48_000)
    _write_wav(folder / f"{stems['Tighten']}.wav", raw, 48_000)
    bad = folder / f"{stems['Breathe in']}.wav"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "damaged":
        bad.write_bytes(b"RIFF\xff\xff\xff\x7fWAVEfmt " + os.urandom(300))
    else:
        bad.write_bytes(b"x")
        _break(kind, bad)
    result = invoke("pack", "import", "p", folder, "--consent", CONSENT)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if str(bad) in line]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    assert set(packs.load("p").takes) == {"Tighten"}


def test_a_pack_zip_round_trip_is_sample_identical(two_takes, tmp_path):
    out = tmp_path / "share" / "voice.zip"
    out.parent.mkdir()
    result = invoke("pack", "export", "test-voice", "-o", out)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert packs.MANIFEST in names and all(n == packs.MANIFEST or n.startswith("takes/") or n == "phrases.txt"
                                               for n in names)
        assert all(not n.startswith("/") and ".." not in n for n in names)
        assert str(Path.home()) not in z.read(packs.MANIFEST).decode()
    result = invoke("pack", "import", "patient-copy", out)
    assert result.exit_code == 0, result.output
    copy = packs.load("patient-copy")
    assert set(copy.takes) == set(two_takes.takes) and copy.consent == CONSENT
    for text, take in two_takes.takes.items():
        assert np.array_equal(packs.read_take(copy, copy.take(text)), packs.read_take(two_takes, take))
    assert os.stat(copy.folder).st_mode & 0o777 == 0o700


@pytest.mark.parametrize("kind", ["not a zip", "foreign member", "damaged take", "fifo"])
def test_a_bad_pack_zip_is_one_line_and_imports_nothing(two_takes, tmp_path, kind):
    out = tmp_path / "voice.zip"
    assert invoke("pack", "export", "test-voice", "-o", out).exit_code == 0
    if kind == "not a zip":
        out.write_bytes(b"PK\x03\x04 not really")
    elif kind == "foreign member":
        with zipfile.ZipFile(out, "a") as z:
            z.writestr("../../evil.sh", "echo hi")
    elif kind == "damaged take":
        with zipfile.ZipFile(out) as z:
            members = {n: z.read(n) for n in z.namelist()}
        take = next(n for n in members if n.startswith("takes/"))
        members[take] = members[take][:-100] + bytes(100)
        with zipfile.ZipFile(out, "w") as z:
            for n, data in members.items():
                z.writestr(n, data)
    else:
        out.unlink()
        os.mkfifo(out)
    result = invoke("pack", "import", "copy", out)
    assert result.exit_code == 1, result.output
    assert str(out) in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not packs.folder_of("copy").exists()       # the pack the import would have made is not left behind
    assert not (tmp_path.parent / "evil.sh").exists()
    leftovers = [p for p in packs.folder_of("copy").parent.iterdir() if p.name.startswith(".import-")]
    assert leftovers == []


def test_the_commands_it_suggests_work(two_takes, write_script, tmp_path):
    # `pack phrases` suggests `pack import NAME FOLDER` and `record --pack NAME --missing`: the import one runs.
    path = write_script(SCRIPT)
    result = invoke("pack", "phrases", "test-voice", path, "-o", tmp_path / "list.txt")
    (suggested,) = [part for part in result.output.split("`") if part.startswith("voicecoach pack import")]
    folder = tmp_path / "recordings"
    folder.mkdir()
    by_text = {text: stem for stem, text in store.read_list(tmp_path / "list.txt").items()}
    raw, _, _ = recording(speech("Well done.", 44_100), 44_100)
    _write_wav(folder / f"{by_text['Well done.']}.wav", raw, 44_100)
    again = invoke(*shlex.split(suggested.replace("FOLDER", str(folder)))[1:])
    assert again.exit_code == 0, again.output
    assert "Imported 1 phrase;" in again.output
    # A folder with nothing named as the list says is one line saying so, not a quiet success.
    (tmp_path / "empty").mkdir()
    empty = invoke("pack", "import", "test-voice", tmp_path / "empty")
    assert empty.exit_code == 1 and "no recording there is named as the phrase list says" in empty.output
    assert shutil.which("ffmpeg")
    with pytest.raises(VoicecoachError):
        store.open_pack("Not A Name")


WELL_DONE = stems(["Well done."])["Well done."]     # the file name `pack phrases` gives it


def test_the_phrase_list_is_never_written_over_a_file_that_is_not_one(data_home, write_script, tmp_path):
    path = write_script(SCRIPT)
    before = path.read_bytes()
    refused = invoke("pack", "phrases", "mine", path, "-o", path)
    assert refused.exit_code == 1 and "already exists and is not a phrase list" in refused.output
    assert path.read_bytes() == before
    assert invoke("pack", "phrases", "mine", path, "-o", tmp_path / "list.txt").exit_code == 0
    assert invoke("pack", "phrases", "mine", path, "-o", tmp_path / "list.txt").exit_code == 0   # its own list


def test_an_import_that_brings_nothing_keeps_the_packs_consent(two_takes, write_script, tmp_path):
    invoke("pack", "phrases", "test-voice", write_script(SCRIPT))
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / f"{WELL_DONE}.wav").write_text("not audio", encoding="utf-8")
    failed = invoke("pack", "import", "test-voice", folder, "--consent", "someone else's words")
    assert failed.exit_code == 1 and "the others were" not in failed.output
    assert packs.load("test-voice").consent == CONSENT


def test_a_link_in_an_import_folder_is_named_not_followed(two_takes, write_script, tmp_path):
    invoke("pack", "phrases", "test-voice", write_script(SCRIPT))
    folder = tmp_path / "linked"
    folder.mkdir()
    raw, _, _ = recording(speech("Well done.", 44_100), 44_100)
    _write_wav(tmp_path / "elsewhere.wav", raw, 44_100)
    (folder / f"{WELL_DONE}.wav").symlink_to(tmp_path / "elsewhere.wav")
    result = invoke("pack", "import", "test-voice", folder, "--consent", CONSENT)
    assert result.exit_code == 1 and f"{folder / f'{WELL_DONE}.wav'}: is a link" in result.output
    assert packs.load("test-voice").take("Well done.") is None


def test_a_phone_recording_in_m4a_is_imported(two_takes, write_script, tmp_path):
    invoke("pack", "phrases", "test-voice", write_script(SCRIPT))
    folder = tmp_path / "phone"
    folder.mkdir()
    raw, _, _ = recording(speech("Well done.", 44_100), 44_100)
    _write_wav(folder / f"{WELL_DONE}.wav", raw, 44_100)
    _encoded(folder / f"{WELL_DONE}.wav", ".m4a")
    result = invoke("pack", "import", "test-voice", folder, "--consent", CONSENT)
    assert result.exit_code == 0, result.output
    assert packs.load("test-voice").take("Well done.") is not None


def test_a_shared_pack_zip_is_readable_by_its_owner_only(two_takes, tmp_path):
    out = tmp_path / "p.zip"
    assert invoke("pack", "export", "test-voice", "-o", out).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_the_pack_benchmark_prints_its_ratios(tmp_path):
    import sys
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "benchmarks.packs", "--minutes", "1", "--voice", "pyttsx3",
                           "--repeat", "1"], cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ratio pack (cold) / neural (cached)" in done.stdout and "s per minute" in done.stdout


def test_sources_say_which_phrases_come_from_the_pack_and_which_from_the_fallback(two_takes, write_script, cache):
    from voicecoach.speech.engines.recorded import sources
    session = prepare(write_script(SCRIPT), cache, voice="recorded:test-voice:pyttsx3")
    recorded, fallback = sources(session.voice, session.clips)
    assert recorded == ["Breathe in", "And slowly out", "Tighten"]
    assert fallback == ["Welcome to this short practice.", "Well done."]
    assert sources(Voice("pyttsx3", None), ["Tighten"]) == ([], ["Tighten"])


def test_the_lines_show_gives_name_the_fallback_phrases(two_takes, write_script, cache):
    from voicecoach.cli.pack import source_lines
    session = prepare(write_script(SCRIPT), cache, voice="recorded:test-voice:pyttsx3")
    lines = source_lines(session.voice, [c.text for c in session.timeline.cues if c.kind == "speech"])
    assert lines[0].startswith("From the voice pack test-voice: 3 phrases; from the fallback voice espeak")
    assert lines[1:3] == ["  Welcome to this short practice.", "  Well done."]
    assert source_lines(Voice("pyttsx3", None), ["Tighten"]) == []


def test_show_says_which_phrases_the_pack_speaks_in_words_and_in_json(two_takes, write_script):
    path = write_script(SCRIPT)
    shown = invoke("show", path, "--voice", "recorded:test-voice:espeak")
    assert shown.exit_code == 0, shown.output
    assert "From the voice pack test-voice: 3 phrases; from the fallback voice espeak: 2:" in shown.output
    assert "  Welcome to this short practice.\n  Well done.\n" in shown.output
    assert f"(`voicecoach record {path} --pack test-voice --missing` records them)" in shown.output
    as_json = invoke("show", path, "--voice", "recorded:test-voice:espeak", "--json")
    data = json.loads(as_json.output)
    assert data["from_pack"] == ["Breathe in", "And slowly out", "Tighten"]
    assert data["from_fallback"] == ["Welcome to this short practice.", "Well done."]
    assert "From the voice pack" not in invoke("show", path, "--voice", "espeak").output


def test_a_pack_without_a_fallback_fills_its_gaps_with_the_voice_the_config_chooses(two_takes, write_script,
                                                                                     tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("voice: flite:slt\n", encoding="utf-8")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(config))
    shown = invoke("show", write_script(SCRIPT), "--voice", "recorded:test-voice")
    assert shown.exit_code == 0, shown.output
    assert "from the fallback voice flite:slt: 2:" in shown.output


def test_pack_phrases_takes_settings_and_programs_and_lists_each_phrase_once(data_home, tmp_path):
    from voicecoach.pack import phrases
    result = invoke("pack", "phrases", "physio", "trainer", "--set", "size=2", "-o", tmp_path / "list.txt")
    assert result.exit_code == 0, result.output
    listed = store.read_list(tmp_path / "list.txt")
    assert "Welcome. Today you are practising with trainer size 2." in listed.values()
    assert "Tighten" in listed.values() and len(set(listed.values())) == len(listed)
    # An exported file says some prompts its own way ("press space" has no meaning in a file): both are listed.
    assert any("Press space" in t for t in listed.values()) and len(listed) > len(
        [t for t in listed.values() if "Press space" in t]) * 2
    whole = phrases.of_names(["program"])
    # A program's phrases are every stage's, each with the stage's own settings.
    assert set(listed.values()) <= set(whole)
    assert [t for t in whole if "practising with trainer size" in t] == [
        f"Welcome. Today you are practising with trainer size {n}." for n in (1, 2, 3, 4)]
    result = invoke("pack", "phrases", "physio", "program", "--set", "size=2")
    assert result.exit_code == 1 and "--set applies to a script" in result.output


def test_an_export_from_a_pack_says_its_phrases_came_from_the_pack_not_a_synthesiser(two_takes, write_script, cache,
                                                                                    tmp_path):
    out = tmp_path / "s.wav"
    result = invoke("--cache-dir", cache.root, "export", write_script(SCRIPT), "--voice", "recorded:test-voice:pyttsx3",
                    "-o", out)
    assert result.exit_code == 0, result.output
    assert "phrase(s) prepared from the voice pack and its fallback voice" in result.output
    assert "synthesised" not in result.output
