"""Recording without a microphone: ALSA's file plugin stands in for one, feeding a known recording (espeak-ng's
words in a little hiss) to the real capture backend, in a process of its own with its own ~/.asoundrc."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soxr
from test_pack import located, lufs, recording, speech

from voicecoach.errors import NO_AUDIO_DEVICE
from voicecoach.pack import capture
from voicecoach.speech import packs
from voicecoach.units import RATE, SAMPLES_PER_MS

MIC_RATE = 48_000
WORDS = "Breathe in slowly, and let it go."


@pytest.fixture(scope="module")
def spoken():
    """The known recording: (int16 at MIC_RATE, where the words start, where they end)."""
    # Five seconds of hiss after the words: past the end of its infile, ALSA's file plugin was measured
    # to hand out stale periods (full-scale garbage) now and then, so a take must end before it gets there.
    return recording(speech(WORDS, MIC_RATE), MIC_RATE, pre_s=0.6, post_s=5.0)


@pytest.fixture
def microphone(tmp_path, spoken):
    """A HOME whose ~/.asoundrc makes ALSA's default device play into nothing and record the known recording."""
    home = tmp_path / "home"
    home.mkdir()
    raw = home / "take.raw"
    # Headerless: the file plugin reads its infile as raw samples in the format the recorder asks for.
    spoken[0].astype("<i2").tofile(raw)
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" }}\n', encoding="utf-8")
    return home


def run(home: Path, *args, keys: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "voicecoach.cli", *map(str, args)], input=keys, env=env,
                          capture_output=True, text=True, timeout=timeout)


PROBE = textwrap.dedent("""
    import json, sys
    import numpy as np
    from voicecoach.pack.capture import backends
    made = backends()[sys.argv[1]](device="default", rate=int(sys.argv[2]))
    blocks = []
    while sum(len(b) for b in blocks) < int(sys.argv[2]) * 3 // 2:
        blocks.append(made.read())
    made.close()
    got = np.concatenate(blocks)
    np.save(sys.argv[3], got)
    print(json.dumps({"rate": made.rate, "types": sorted({str(b.dtype) for b in blocks}),
                      "dims": sorted({b.ndim for b in blocks}), "largest": max(len(b) for b in blocks)}))
""")


@pytest.mark.parametrize("backend", list(capture.backends()))
def test_a_capture_backend_delivers_the_microphone_sample_for_sample(backend, microphone, spoken, tmp_path):
    out = tmp_path / "got.npy"
    done = subprocess.run([sys.executable, "-c", PROBE, backend, str(MIC_RATE), str(out)],
                          env={**os.environ, "HOME": str(microphone)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["rate"] == MIC_RATE and facts["types"] == ["int16"] and facts["dims"] == [1]
    assert facts["largest"] <= MIC_RATE // 20       # small blocks: a meter and keys stay lively
    got = np.load(out)
    assert np.array_equal(got, spoken[0][: len(got)])


def test_no_microphone_is_one_line_saying_what_to_do_instead(tmp_path, write_script):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text("pcm.!default { type hw card 9 }\n", encoding="utf-8")
    path = write_script("voicecoach: 1\ntitle: One\nsteps:\n  - say: Breathe in\n")
    done = run(home, "record", path, "--pack", "mine", "--consent", "my own voice", "--countdown", "0", keys="k\n")
    assert done.returncode == NO_AUDIO_DEVICE, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "microphone" in lines[0] and "voicecoach pack import" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not packs.folder_of("mine").exists()       # nothing recorded: no empty pack is left behind


TWO = "voicecoach: 1\ntitle: Two\nsteps:\n  - say: Breathe in\n  - pause: 2\n  - say: And slowly out\n"


@pytest.mark.slow
def test_a_recorded_take_is_trimmed_to_the_words_at_the_pack_loudness(microphone, spoken, write_script):
    path = write_script(TWO)
    # Keep the first take after playing it again; skip the second phrase.
    done = run(microphone, "record", path, "--pack", "mine", "--consent", "my own voice", "--countdown", "0",
               keys="p\nk\ns\n")
    assert done.returncode == 0, done.stderr
    assert "Kept 1 take" in done.stdout and "Say: Breathe in" in done.stdout and "Say: And slowly out" in done.stdout
    pack = packs.load("mine")
    assert set(pack.takes) == {"Breathe in"} and pack.missing() == ["And slowly out"]
    take = packs.read_take(pack, pack.take("Breathe in"))
    raw, start, end = spoken
    source = soxr.resample(raw.astype(np.float32), MIC_RATE, RATE, quality="HQ")
    at = located(take, source)
    assert abs(at - start * RATE / MIC_RATE) <= 20 * SAMPLES_PER_MS
    assert abs(at + len(take) - end * RATE / MIC_RATE) <= 20 * SAMPLES_PER_MS
    assert abs(lufs(take) - pack.loudness) <= 1.0
    # The command it suggests for the rest works: it records only the phrase still missing.
    suggested = [line for line in done.stdout.splitlines() if "--missing" in line]
    assert suggested, done.stdout
    command = shlex.split(suggested[0].split("`")[1])
    assert command[:2] == ["voicecoach", "record"]
    again = run(microphone, *command[1:], "--countdown", "0", keys="k\n")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("Say:") == 1 and "Say: And slowly out" in again.stdout
    assert set(packs.load("mine").takes) == {"Breathe in", "And slowly out"}


@pytest.mark.slow
@pytest.mark.parametrize("keys", ["r\nq\n", "", "s\nq\n"])
def test_quitting_or_the_end_of_the_keys_keeps_no_half_take(microphone, write_script, keys):
    path = write_script(TWO)
    done = run(microphone, "record", path, "--pack", "mine", "--consent", "my own voice", "--countdown", "0",
               keys=keys)
    assert done.returncode == 0, done.stderr
    assert "Kept 0 takes" in done.stdout
    folder = packs.folder_of("mine")
    assert not packs.load("mine").takes
    assert [p for p in folder.rglob("*") if p.is_file() and p.name not in (packs.MANIFEST, packs.PHRASE_LIST)] == []


def test_recording_from_a_pipe_asks_for_consent_in_one_line(microphone, write_script):
    done = run(microphone, "record", write_script(TWO), "--pack", "mine", "--countdown", "0", keys="k\n")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--consent" in lines[0], done.stderr


def test_missing_with_no_script_on_a_new_pack_says_what_to_name_and_leaves_no_pack(microphone):
    from voicecoach.paths import packs_dir
    done = run(microphone, "record", "--pack", "brand-new", "--missing", "--consent", "my own voice")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "has no phrase list yet" in line and "voicecoach record program --pack brand-new --missing" in line
    assert not (packs_dir() / "brand-new").exists()


@pytest.mark.slow
def test_record_missing_program_asks_only_for_the_phrases_the_pack_lacks(microphone):
    from voicecoach.pack import phrases, store
    texts = phrases.of_names(["program"])
    assert len(texts) > 50
    pack = store.open_pack("mine", create=True, consent="my own voice")
    tone = (np.sin(np.arange(RATE // 2) * 2 * np.pi * 220 / RATE) * 8000).astype(np.int16)
    for text in texts[2:]:
        pack = store.keep(pack, text, tone)
    done = run(microphone, "record", "--pack", "mine", "--missing", "program", "--countdown", "0", keys="k\ns\n")
    assert done.returncode == 0, done.stderr
    assert "2 phrases to record" in done.stdout
    asked = [line.split("Say: ", 1)[1] for line in done.stdout.splitlines() if "Say: " in line]
    assert asked == texts[:2]
    after = packs.load("mine")
    assert after.take(texts[0]) is not None and after.take(texts[1]) is None
    assert after.missing() == [texts[1]]


@pytest.mark.slow
def test_at_a_terminal_single_keys_drive_it_with_a_countdown_and_a_level_meter(microphone, write_script, tmp_path):
    import io

    import pexpect
    path = write_script(TWO)
    command = shlex.join([sys.executable, "-m", "voicecoach.cli", "record", str(path), "--pack", "mine",
                          "--consent", "my own voice", "--countdown", "1"])
    shell = f"stty -g > before; {command}; rc=$?; stty -g > after; exit $rc"
    child = pexpect.spawn("bash", ["-c", shell], cwd=str(tmp_path), env={**os.environ, "HOME": str(microphone)},
                          encoding="utf-8", dimensions=(24, 100), timeout=60)
    child.logfile_read = io.StringIO()
    child.expect("Say: Breathe in")
    child.expect(r"1\.\.\.")
    child.expect(r"\[#+-*\] +-?\d+\.\d dB")         # the meter, redrawn in place while the take goes on
    child.expect("k: keep")
    child.send("p")                                  # one key, no Enter: played again, asked again
    child.send("k")
    child.expect("Kept.")
    child.expect("Say: And slowly out")
    child.expect("k: keep")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()     # the terminal is restored
    assert "Stopped. Kept 1 take" in child.logfile_read.getvalue()
    assert set(packs.load("mine").takes) == {"Breathe in"}


class _Keys:
    """Keys as a person presses them: some while the countdown runs or a take goes on, some at the questions."""

    def __init__(self, polls, answers):
        self.polls, self.answers = list(polls), list(answers)

    def poll(self):
        return self.polls.pop(0) if self.polls else None

    def wait(self, allowed):
        return self.answers.pop(0) if self.answers else "q"


class _Recording:
    """A capture backend behind the same interface, giving a known recording 10 ms at a time."""
    rate = MIC_RATE

    def __init__(self, samples):
        self.samples, self.at, self.closed = samples, 0, False

    def read(self):
        block = self.samples[self.at: self.at + MIC_RATE // 100]
        self.at += len(block)
        return block if len(block) else np.zeros(MIC_RATE // 100, dtype=np.int16)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("key, quit", [("q", True), ("s", False)])
def test_a_key_during_the_countdown_quits_or_skips_before_anything_is_recorded(data_home, spoken, key, quit):
    from voicecoach.pack import recorder, store
    pack = store.open_pack("mine", create=True, consent="my own voice")
    opened, said = [], []
    pack, outcome = recorder.record(
        pack, ["Breathe in", "Tighten"], open_capture=lambda: opened.append(_Recording(spoken[0])) or opened[-1],
        play=lambda samples: None, keys=_Keys([None] * 30 + [key], ["k"]), say=said.append,
        timing=recorder.Timing(countdown_s=3), sleep=lambda s: None)
    assert outcome.quit == quit and said.count("  3...") == (1 if quit else 2) and "  2..." in said
    if quit:
        assert not opened and outcome.kept == () and not pack.takes
    else:
        # "Breathe in" skipped in its countdown; "Tighten" recorded from the known recording and kept.
        assert outcome.skipped == ("Breathe in",) and outcome.kept == ("Tighten",)
        assert len(opened) == 1 and opened[0].closed and set(packs.load("mine").takes) == {"Tighten"}
