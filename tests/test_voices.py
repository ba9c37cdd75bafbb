"""Every installed speech engine behind one interface: right rate, own cache keys, exact timing, clear errors."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cache import phrase_key
from voicecoach.cli import cli
from voicecoach.config import UserConfig, load_config
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.script import load_script
from voicecoach.session import choose_voice, prepare
from voicecoach.speech import engines
from voicecoach.speech import pool as speech
from voicecoach.speech.clip import AUDIBLE
from voicecoach.speech.engines import flite, pyttsx3
from voicecoach.speech.voice import DEFAULT_RATE_WPM, Voice
from voicecoach.testing import synthesise_in_worker
from voicecoach.units import RATE, SAMPLES_PER_MS

PHRASE = "Let your shoulders drop, and breathe out slowly."

# The main voice of each engine; tools/setup.sh installs them all, so a missing one is a failure.
MAIN = [pytest.param(Voice(engine="pyttsx3"), id="pyttsx3")]
for _engine, _voice in (("piper", "joe"), ("festival", "cmu_us_slt_arctic_hts"), ("festival", "kal_diphone"), ("flite", "slt")):
    MAIN.append(pytest.param(Voice(engine=_engine, name=_voice), id=f"{_engine}:{_voice}"))


@pytest.fixture(autouse=True)
def no_user_config(tmp_path, monkeypatch):
    """The user's own config.yaml never changes what these tests choose."""
    monkeypatch.setenv("VOICECOACH_CONFIG", str(tmp_path / "no-config.yaml"))


def render_into(cache, voice, texts):
    speech.render(voice, texts, lambda text, samples: cache.put(phrase_key(voice, text), samples))
    return {t: cache.get(phrase_key(voice, t)) for t in texts}


def engine_output(voice, text):
    """The engine's own samples and rate, before voicecoach converts them (in a worker, as the pool runs it)."""
    return synthesise_in_worker(voice, text)


def speech_length(samples, rate):
    """Seconds from the first to the last audible sample (what trimming keeps)."""
    loud = np.flatnonzero(np.abs(np.asarray(samples, dtype=np.int32)) >= AUDIBLE)
    return (loud[-1] - loud[0] + 1) / rate


@pytest.mark.parametrize("voice", MAIN)
def test_each_engine_enters_the_cache_at_the_internal_rate_with_its_own_length(cache, voice):
    clip = render_into(cache, voice, [PHRASE])[PHRASE]
    with wave.open(str(cache.path(phrase_key(voice, PHRASE)))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
    own, own_rate = engine_output(voice, PHRASE)
    # Played at the wrong rate, the clip would be 9 % (22.05 vs 24 kHz) to 50 % (16 vs 24) off.
    assert len(clip) / RATE == pytest.approx(speech_length(own, own_rate), rel=0.05)


def test_switching_voice_or_engine_changes_the_key_and_keeps_both_entries(cache):
    voices = [Voice(), Voice(name="gmw/en-us"), Voice(engine="flite", name="slt"), Voice(engine="festival"),
              Voice(engine="festival", name="cmu_us_slt_arctic_hts")]
    assert len({phrase_key(v, PHRASE) for v in voices}) == len(voices)
    two = [Voice(), Voice(engine="flite", name="slt")]
    assert engines.engine("flite").installed(), "flite is part of the set-up (tools/setup.sh)"
    for v in two:
        render_into(cache, v, ["Well done."])
    assert all(cache.get(phrase_key(v, "Well done.")) is not None for v in two)
    assert cache.info().count == 2


def test_engine_voice_specs_resolve_and_a_bare_name_is_pyttsx3():
    assert engines.split_spec("gmw/en-us") == ("pyttsx3", "gmw/en-us")
    assert engines.split_spec("flite:slt") == ("flite", "slt")
    assert engines.split_spec("Festival: slt ") == ("festival", "slt")
    if engines.engine("festival").installed():
        assert engines.resolve("festival:slt") == ("festival", "cmu_us_slt_arctic_hts")
        assert engines.resolve("festival") == ("festival", "cmu_us_slt_arctic_hts")


@pytest.mark.parametrize("spec, says", [("klatt9:slt", "no speech engine 'klatt9'; pick one of: piper, festival, flite, espeak"),
                                        ("flite:nobody", "flite has no voice 'nobody'; pick one of:"),
                                        ("festival:nobody", "festival has no voice 'nobody'"),
                                        ("klingon-x", "there is no voice 'klingon-x'")])
def test_unknown_engine_or_voice_is_one_line_and_a_failure(write_script, spec, says):
    path = write_script("voicecoach: 1\ntitle: T\nsteps:\n  - say: Hello.\n")
    result = CliRunner().invoke(cli, ["show", str(path), "--voice", spec])
    assert result.exit_code != 0
    assert says in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_a_missing_engine_names_what_to_install(monkeypatch):
    monkeypatch.setattr(flite.Flite, "installed", lambda self: False)
    with pytest.raises(VoicecoachError, match="not installed: sudo apt-get install flite"):
        engines.resolve("flite:slt")
    with pytest.raises(VoicecoachError, match="apt-get install flite"):
        speech.render(Voice(engine="flite", name="slt"), ["Hello."], lambda t, s: None)


def test_choice_runs_cli_over_script_over_config_over_best(write_script, tmp_path):
    plain = load_script(write_script("voicecoach: 1\ntitle: T\nsteps:\n  - say: Hello.\n", "plain.yaml"))
    named = load_script(write_script("voicecoach: 1\ntitle: T\nvoice: {name: 'flite:rms'}\nsteps:\n  - say: Hi.\n",
                                     "named.yaml"))
    config = UserConfig(tmp_path / "config.yaml", "flite:awb", 2, 120)
    best = engines.best_available()
    assert (choose_voice(plain, config=UserConfig()).engine, choose_voice(plain, config=UserConfig()).name) == best
    assert choose_voice(plain, config=UserConfig()).rate == DEFAULT_RATE_WPM
    assert choose_voice(plain, config=config) == Voice("flite", "awb", 120)
    assert choose_voice(named, config=config) == Voice("flite", "rms", 120)
    assert choose_voice(named, name="flite:slt", rate=150, config=config) == Voice("flite", "slt", 150)


def test_config_file_is_read_and_its_errors_name_file_and_line(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text("# mine\nvoice: flite:slt\nrate: 130\n", encoding="utf-8")
    assert load_config(path) == UserConfig(path, "flite:slt", 2, 130)
    path.write_text("voice: {name: 'festival:slt'}\n", encoding="utf-8")
    assert load_config(path).voice == "festival:slt"
    path.write_text("voice: flite:slt\nrate: fast\n", encoding="utf-8")
    with pytest.raises(VoicecoachError, match=r"config\.yaml:2: rate must be words per minute"):
        load_config(path)
    path.write_text("colour: blue\n", encoding="utf-8")
    with pytest.raises(VoicecoachError, match=r"config\.yaml:1: `colour` is not a setting"):
        load_config(path)
    # An unknown voice in the config names the config's line when a session uses it.
    path.write_text("\nvoice: flite:nobody\n", encoding="utf-8")
    monkeypatch.setenv("VOICECOACH_CONFIG", str(path))
    script = tmp_path / "s.yaml"
    script.write_text("voicecoach: 1\ntitle: T\nsteps:\n  - say: Hello.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["show", str(script)])
    assert result.exit_code != 0 and "config.yaml:2: voice: flite has no voice 'nobody'" in result.output


SCRIPT = """
voicecoach: 1
title: Timing
steps:
  - say: Find a comfortable position.
  - pause: 0.5
  - breathe: {in: 2, hold: 1, out: 2, cycles: 1}
  - squeeze: {hold: 2, rest: 1, reps: 1, count: true}
  - say: Well done.
"""


@pytest.mark.slow
@pytest.mark.parametrize("voice", MAIN)
def test_cues_sound_on_time_in_every_engine(write_script, cache, voice):
    spec = voice.engine if voice.name is None else f"{voice.engine}:{voice.name}"
    session = prepare(write_script(SCRIPT), cache, voice=spec)
    assert (session.voice.engine, session.voice.name or None) == (voice.engine, voice.name)
    samples = session.audio()
    assert len(samples) == session.timeline.length * SAMPLES_PER_MS
    previous_end = -10**9
    for cue in session.timeline.cues:
        if cue.kind == "speech" and cue.start - previous_end >= 20:
            at = cue.start * SAMPLES_PER_MS
            window = np.abs(samples[max(0, at - 10 * SAMPLES_PER_MS): at + 30 * SAMPLES_PER_MS].astype(np.int32))
            loud = np.flatnonzero(window > 328)     # -40 dBFS
            assert len(loud), cue
            assert abs(loud[0] + max(0, at - 10 * SAMPLES_PER_MS) - at) <= 10 * SAMPLES_PER_MS, cue
        previous_end = cue.start + cue.length


def test_mbrola_voices_are_read_at_their_true_rate():
    # espeak-ng reports 22,050 Hz for its MBROLA voices, which speak at 16 kHz. Rendering one needs
    # the non-free MBROLA data, which no set-up here installs; the rate they are read at is checked.
    assert pyttsx3._true_rate("mb-us1") == pyttsx3._true_rate("mb/mb-en1") == 16_000
    assert pyttsx3._true_rate("gmw/en-us") is None


def test_voices_lists_every_engine_and_writes_samples_to_compare(tmp_path):
    result = CliRunner().invoke(cli, ["voices"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("espeak:gmw/en-us ") for line in lines)
    everyone = [v for item in engines.listing() for v in item.voices]
    best = engines.short_spec(next(v for v in everyone if (v.engine, v.id) == engines.best_available()), everyone)
    at = next(i for i, line in enumerate(lines) if line.startswith(best + " "))
    assert "[best-available" in lines[at]
    for e in engines.registered():
        if not e.installed():
            assert f"{engines.shown_engine(e.name)}: not installed" in result.output
    result = CliRunner().invoke(cli, ["voices", "--sample", "Let your shoulders drop.", "-d", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert "espeak-gmw-en-us.wav" in written and len(written) == len(engines.main_voices(engines.listing()))
    for p in (tmp_path / "s").iterdir():
        with wave.open(str(p)) as w:
            assert w.getframerate() == RATE and w.getnframes() > RATE // 2


def _listed_specs(*args) -> tuple[list[str], list[str]]:
    """(the specs `voicecoach voices ARGS` lists, its lines)."""
    import re
    out = CliRunner().invoke(cli, ["voices", *args])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    return [line.split()[0] for line in lines if re.match(r"^[a-z][a-z0-9-]*:\S+(\s|$)", line)], lines


def test_voices_and_voices_all_name_each_voice_the_same_way_and_fit_80_columns():
    short, short_lines = _listed_specs()
    every, every_lines = _listed_specs("--all")
    assert short and len(every) == sum(len(item.voices) for item in engines.listing())
    assert set(short) <= set(every)         # the short list's names are the --all list's names
    assert len(set(every)) == len(every)    # one voice, one name
    assert not any(spec.startswith("pyttsx3:") for spec in every)     # espeak-ng is listed as espeak
    for line in short_lines + every_lines:
        assert len(line) <= 80, line


def test_every_listed_spec_works_with_voice(tmp_path):
    # A script with nothing to say: `show` resolves the voice, and renders nothing.
    script = tmp_path / "quiet.yaml"
    script.write_text("voicecoach: 1\ntitle: Quiet\nsteps:\n  - pause: 1\n", encoding="utf-8")
    specs = sorted(set(_listed_specs()[0] + _listed_specs("--all")[0]))
    refused = []
    for spec in specs:
        done = CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "cache"), "show", str(script), "--voice", spec])
        if done.exit_code != 0:
            refused.append((spec, done.output))
    assert not refused


@pytest.mark.parametrize("spec", ["espeak", "espeak:gmw/en-us", "espeak-ng:gmw/en-us", "ESPEAK:gmw/en-us",
                                  "pyttsx3:gmw/en-us", "gmw/en-us"])
def test_espeak_names_the_engine_and_pyttsx3_stays_an_alias_with_the_same_cache_keys(spec):
    engine, voice = engines.resolve(spec)
    assert engine == "pyttsx3"           # what cache keys, logs and configs have always said
    assert voice in (None, "gmw/en-us")
    if voice:
        assert phrase_key(Voice(engine=engine, name=voice), PHRASE) == \
            phrase_key(Voice(engine="pyttsx3", name="gmw/en-us"), PHRASE)


def test_sample_files_are_named_by_the_listed_spec(tmp_path):
    from voicecoach.samples import write_samples
    found = engines.listing()
    everyone = [v for item in found for v in item.voices]
    chosen = [v for v in everyone if v.engine in ("pyttsx3", "flite")][:3]
    written = write_samples("Breathe.", tmp_path, chosen, DEFAULT_RATE_WPM, siblings=everyone)
    listed, _ = _listed_specs("--all")
    for v, path in zip(chosen, written):
        spec = engines.short_spec(v, everyone)
        assert spec in listed
        assert path.name == engines.file_safe(spec) + ".wav"
        assert ":" not in path.name and "/" not in path.name


def test_voices_says_in_one_sentence_where_a_piper_voice_of_ones_choice_goes(data_home):
    out = " ".join(CliRunner().invoke(cli, ["voices"]).output.split())      # wrapped at 80 columns
    assert f"a British or a female one among them: put its .onnx and .onnx.json in {data_home})" in out


def test_a_voice_suggestion_is_named_as_voices_lists_it_and_works(tmp_path):
    import re
    script = tmp_path / "quiet.yaml"
    script.write_text("voicecoach: 1\ntitle: Quiet\nsteps:\n  - pause: 1\n", encoding="utf-8")
    every = set(_listed_specs("--all")[0])

    def show(spec):
        return CliRunner().invoke(cli, ["--cache-dir", str(tmp_path / "cache"), "show", str(script), "--voice", spec])
    # Another engine's voice given by its bare name, and a misspelt espeak-ng voice.
    wanted = {"joe": "piper:joe"} if engines.engine("piper").installed() else {}
    wanted["gmw/en-uss"] = "espeak:gmw/en-us"
    for given, meant in wanted.items():
        said = show(given)
        assert said.exit_code != 0 and "did you mean" in said.output, said.output
        suggested = re.findall(r"(\w[\w-]*:[\w/-]+)", said.output.split("did you mean", 1)[1])
        assert meant in suggested and set(suggested) <= every, said.output
        assert all(show(spec).exit_code == 0 for spec in suggested)
        # The command the message points to lists the voices it suggests, named that way.
        commands = re.findall(r"`voicecoach ([^`]+)`", said.output)
        assert commands, said.output
        for command in commands:
            listed = CliRunner().invoke(cli, command.split())
            assert listed.exit_code == 0 and meant in listed.output, listed.output
