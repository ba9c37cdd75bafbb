"""Export end to end: every format plays with its chapters on the sections' milliseconds, cues stay on time,
programs become numbered folders, discreet output says nothing personal, interrupted exports leave no
partial file, and an unchanged export does no work."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import mutagen
import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.audio import ffmpeg, loudness
from voicecoach.audio.mix import assemble
from voicecoach.cache import Cache
from voicecoach.cli import cli
from voicecoach.export.cover import cover_png
from voicecoach.export.file import export_script
from voicecoach.export.manifest import MANIFEST
from voicecoach.export.playlist import parse_m3u8
from voicecoach.export.program import export_program
from voicecoach.session import prepare
from voicecoach.units import RATE, SAMPLES_PER_MS

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
voicecoach: 1
title: Pelvic floor release for vaginismus
params: {hold: 3}
steps:
  - section: Settling the pelvic floor
  - say: Let your shoulders drop, when you feel ready.
  - pause: 1
  - section: Tighten and release the vaginal muscles
  - squeeze: {hold: $hold, rest: 3, reps: 2, count: true}
  - section: Breathing after penetration practice
  - breathe: {in: 3, out: 4, cycles: 1}
  - chime: {}
  - say: Well done.
"""
# Words a phone's lock screen must not show in discreet mode: the script's and program's own words.
SENSITIVE = ["pelvic", "vagin", "floor", "penetrat", "trainer", "tighten", "release", "muscle", "sex",
             "step by step", "insert", "dilator"]

PROGRAM = """
voicecoach: 1
title: Step by step with a trainer
stages:
  - stage: Release the pelvic floor
    script: release.yaml
    move_on_when: It feels familiar.
    frequency: every day
  - stage: Trainer, longer holds
    script: release.yaml
    set: {hold: 4}
    move_on_when: You feel comfortable.
    frequency: 3 times a week
"""


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def decode(path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE), "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype="<i2")


def run(*args, cache):
    return CliRunner().invoke(cli, ["--cache-dir", str(cache.root), "export", *map(str, args)])


def leftovers(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith((".partial", ".tags"))]


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("scripts") / "release.yaml"
    path.write_text(SCRIPT.lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def no_ffmpeg(monkeypatch):
    """Any use of ffmpeg fails the test: proof that nothing is measured or encoded."""
    def refuse(*args, **kwargs):
        raise AssertionError("ffmpeg was run")
    monkeypatch.setattr(ffmpeg, "run", refuse)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus"])
def test_chapters_and_tags_read_back_on_the_sections_milliseconds(script, shared_cache, tmp_path, fmt):
    done = export_script(script, tmp_path / f"s.{fmt}", shared_cache)
    tl = done.session.timeline
    wanted = [(s.name, s.start) for s in tl.sections]
    info = probe(done.path)
    assert [(c["tags"]["title"], round(float(c["start_time"]) * 1000)) for c in info["chapters"]] == wanted
    audio = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert len(audio) == 1 and int(audio[0]["sample_rate"]) in (RATE, 48_000) and audio[0]["channels"] == 1
    # Encoder delay is signalled in each container; ffmpeg's MP4 muxer leaves AAC's last frame padded
    # (under 1024 samples of silence at the end).
    extra = len(decode(done.path)) - tl.length * SAMPLES_PER_MS
    assert (0 <= extra < 1024) if fmt == "m4a" else abs(extra) <= 2 * SAMPLES_PER_MS
    f = mutagen.File(str(done.path))
    if fmt == "mp3":
        chaps = {c.element_id: c for c in f.tags.getall("CHAP")}
        (toc,) = f.tags.getall("CTOC")
        got = [(chaps[i].sub_frames["TIT2"].text[0], chaps[i].start_time) for i in toc.child_element_ids]
        assert got == wanted                                 # ID3 CHAP: exact milliseconds
        assert str(f.tags["TIT2"]) == "Pelvic floor release for vaginismus" and str(f.tags["TPE1"]) == "voicecoach"
    elif fmt == "m4a":
        # MP4 chapters (Nero chpl) count in 100 ns units: the millisecond survives.
        assert [(c.title, round(c.start * 1000)) for c in f.chapters] == wanted
        assert f.tags["\xa9nam"] == ["Pelvic floor release for vaginismus"]
    else:
        names = [(f.tags[f"CHAPTER{i:03d}NAME"][0], f.tags[f"CHAPTER{i:03d}"][0]) for i in range(len(wanted))]
        assert names == [(n, f"00:{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}") for n, ms in wanted]
    assert done.transcript == done.path.with_suffix(".vtt") and done.transcript.is_file()


@pytest.mark.slow
# Lossy codecs smear a little energy ahead of a sharp onset (pre-echo; AAC's frames are 43 ms at 24 kHz;
# LAME at level 7, without noise shaping, up to 9 ms at -40 dBFS before a word from silence: under the
# 20 ms of premasking a loud onset casts back, so inaudible).
@pytest.mark.parametrize("fmt, early_ms", [("wav", 0), ("mp3", 10), ("m4a", 8), ("opus", 5)])
def test_every_cue_still_starts_on_its_millisecond(script, shared_cache, tmp_path, fmt, early_ms):
    done = export_script(script, tmp_path / f"s.{fmt}", shared_cache)
    samples, tl = decode(done.path).astype(np.int32), done.session.timeline
    reference = assemble(tl, done.session.clips)
    # As a whole, the file lines up with the mixed session with no lag at all.
    n = min(len(samples), len(reference))

    def match(lag):
        return np.dot(samples[max(0, lag): n + min(0, lag)].astype(np.float64),
                      reference[max(0, -lag): n - max(0, lag)].astype(np.float64))
    assert max(range(-48, 49), key=match) == 0
    checked = 0
    for cue in tl.cues:
        at = cue.start * SAMPLES_PER_MS
        if reference[max(0, at - 50 * SAMPLES_PER_MS): at].any():
            continue                       # sound just before: no clean onset to find
        # Each clip starts on an audible sample (|x| >= 256); with the export's gain it is louder still.
        window = samples[max(0, at - 50 * SAMPLES_PER_MS): at + 200 * SAMPLES_PER_MS]
        onset = np.flatnonzero(np.abs(window) >= 256)[0] - min(at, 50 * SAMPLES_PER_MS)
        assert -early_ms * SAMPLES_PER_MS <= onset <= SAMPLES_PER_MS, (cue, onset)
        checked += 1
    assert checked >= 5


@pytest.mark.slow
def test_a_second_export_with_nothing_changed_does_no_work(script, shared_cache, tmp_path, monkeypatch):
    out = tmp_path / "s.m4a"
    first = run(script, "-o", out, cache=shared_cache)
    assert first.exit_code == 0, first.output
    assert "Wrote" in first.output and "LUFS" in first.output
    before = out.stat()
    monkeypatch.setattr(ffmpeg, "run", lambda *a, **k: pytest.fail("ffmpeg was run"))
    again = run(script, "-o", out, cache=shared_cache)
    assert again.exit_code == 0, again.output
    assert "up to date" in again.output and "nothing to do" in again.output
    assert "transcript" not in again.output                    # not rewritten either
    after = out.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)


@pytest.mark.slow
def test_an_export_passes_over_the_session_once(script, tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    session_samples = prepare(script, cache).timeline.length * SAMPLES_PER_MS
    fed = []            # samples each ffmpeg run was given, and its arguments
    real = ffmpeg.run

    def counting(args, feed=None, **kw):
        blocks = None if feed is None else list(feed)
        fed.append((sum(len(b) for b in blocks or []), args))
        return real(args, feed=blocks, **kw)
    monkeypatch.setattr(ffmpeg, "run", counting)
    first = export_script(script, tmp_path / "a.mp3", cache)
    # Mastering and the codec probe work on the distinct sounds; the session is fed to ffmpeg once, and
    # the written file is never decoded again.
    assert [n for n, _ in fed].count(session_samples) == 1
    assert not [a for _, a in fed if any(".partial" in arg for arg in a[:-1] if not arg.endswith(".tags"))]
    assert first.loudness.integrated == pytest.approx(loudness.measure_file(first.path).integrated, abs=0.25)
    fed.clear()
    export_script(script, tmp_path / "b.mp3", cache)
    # Warm: the encode, and the ID3 tag made without audio; nothing measured or mastered.
    assert sorted(n for n, _ in fed) == [0, session_samples]
    fed.clear()
    export_script(script, tmp_path / "c.wav", cache)
    assert fed == []                            # WAV is written directly, from the same mastered sounds
    assert len(decode(tmp_path / "c.wav")) == session_samples


def test_the_mp3_tag_put_before_the_audio_is_what_one_ffmpeg_run_writes(tmp_path):
    from voicecoach.audio.tags import Chapter, Tags, ffmetadata, metadata_args
    from voicecoach.export.encode import id3_tag
    from voicecoach.export.formats import ENCODERS
    tags = Tags(title="Ruhe", album="Übungen", artist="voicecoach", track=2, tracks=5,
                chapters=(Chapter("First", 0, 1500), Chapter("A longer second title", 1500, 4000)))
    samples = (np.sin(np.arange(4 * RATE) / 7) * 8000).astype(np.int16)
    meta = tmp_path / "meta.txt"
    meta.write_text(ffmetadata(tags), encoding="utf-8")
    ffmpeg.run(ffmpeg.PCM_INPUT + ["-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_metadata", "1",
                                   "-map_chapters", "1", *metadata_args(tags, tags_too=True)]
               + ENCODERS["mp3"] + [str(tmp_path / "one.mp3")], feed=[samples])
    ffmpeg.run(ffmpeg.PCM_INPUT + ENCODERS["mp3"] + ["-id3v2_version", "0", str(tmp_path / "audio.mp3")], feed=[samples])
    joined = id3_tag(tmp_path / "x.partial", tags) + (tmp_path / "audio.mp3").read_bytes()
    assert joined == (tmp_path / "one.mp3").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio.mp3", "meta.txt", "one.mp3"]   # nothing left


@pytest.mark.slow
def test_a_change_or_force_exports_again(script, shared_cache, tmp_path):
    out = tmp_path / "s.mp3"
    export_script(script, out, shared_cache)
    assert export_script(script, out, shared_cache).skipped
    changed = export_script(script, out, shared_cache, overrides={"hold": 4})
    assert not changed.skipped and changed.loudness.within()
    assert not export_script(script, out, shared_cache, overrides={"hold": 4}, force=True).skipped
    assert not export_script(script, out, shared_cache, overrides={"hold": 4}, discreet=True).skipped


@pytest.mark.slow
@pytest.mark.parametrize("when", ["first block", "last block"])
def test_an_exception_mid_export_leaves_the_previous_file(script, shared_cache, tmp_path, when):
    out = tmp_path / "s.mp3"
    export_script(script, out, shared_cache)
    previous = out.read_bytes()
    counted = []       # progress calls of a whole export; the last comes after the rename
    export_script(script, tmp_path / "count.mp3", shared_cache, overrides={"hold": 4},
                  progress=lambda fraction, label: counted.append(fraction))
    assert len(counted) >= 3
    after_calls = 1 if when == "first block" else len(counted) - 1
    calls = []

    def interrupt(fraction, label):
        calls.append(fraction)
        if len(calls) >= after_calls:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        export_script(script, out, shared_cache, overrides={"hold": 4}, progress=interrupt)
    assert out.read_bytes() == previous
    assert leftovers(tmp_path) == []
    fresh = tmp_path / "new.opus"
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        export_script(script, fresh, shared_cache, progress=interrupt)
    assert not fresh.exists() and leftovers(tmp_path) == []


LONG = """
voicecoach: 1
title: Long enough to kill
steps:
  - section: Only
  - repeat: 40
    steps: [{say: Breathe in slowly.}, {pause: 5}, {say: And let it go.}, {pause: 5}]
"""


@pytest.mark.slow
@pytest.mark.parametrize("previous", [False, True], ids=["fresh", "over-an-old-file"])
def test_sigkill_mid_encode_leaves_no_partial_file(write_script, shared_cache, tmp_path, previous):
    path, out = write_script(LONG), tmp_path / "long.mp3"
    if previous:
        export_script(write_script(SCRIPT, "short.yaml"), out, shared_cache)
    old = out.read_bytes() if previous else None
    prepare(path, shared_cache)                       # phrases cached: the child goes straight to encoding
    child = subprocess.Popen([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(shared_cache.root),
                              "export", str(path), "-o", str(out)], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    partial = []
    while time.monotonic() < deadline and child.poll() is None:
        partial = [p for p in tmp_path.glob(".long.mp3.*.partial*") if p.stat().st_size > 0]
        if partial:
            break                                         # ffmpeg is writing the encoded file right now
        time.sleep(0.01)
    assert partial, "the export finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    if previous:
        assert out.read_bytes() == old
    else:
        assert not out.exists()
    # ffmpeg died with its parent; the next export clears the dead one's temporary file and succeeds.
    done = export_script(path, out, shared_cache)
    assert not done.skipped and done.loudness.within()
    assert leftovers(tmp_path) == []


def _program(tmp_path, body=PROGRAM):
    (tmp_path / "release.yaml").write_text(SCRIPT.lstrip(), encoding="utf-8")
    path = tmp_path / "program.yaml"
    path.write_text(body.lstrip(), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_program_becomes_numbered_files_a_playlist_and_a_readme(shared_cache, tmp_path):
    program, folder = _program(tmp_path), tmp_path / "phone" / "voicecoach"
    result = run(program, "-d", folder, cache=shared_cache)
    assert result.exit_code == 0, result.output
    names = ["01 Release the pelvic floor.mp3", "02 Trainer, longer holds.mp3"]
    assert sorted(p.name for p in folder.glob("*.mp3")) == names
    assert sorted(p.name for p in folder.glob("*.vtt")) == [n.replace(".mp3", ".vtt") for n in names]
    entries = parse_m3u8((folder / "playlist.m3u8").read_text(encoding="utf-8"))
    assert [e.file for e in entries] == names
    assert [e.title for e in entries] == ["Release the pelvic floor", "Trainer, longer holds"]
    for e in entries:
        seconds = float(probe(folder / e.file)["format"]["duration"])
        assert abs(e.ms / 1000 - seconds) <= 0.5 + 0.05
        tags = mutagen.File(str(folder / e.file), easy=True)
        assert tags["album"] == ["Step by step with a trainer"] and tags["title"] == [e.title]
        assert tags["tracknumber"] == [f"{names.index(e.file) + 1}/2"]
    assert entries[1].ms > entries[0].ms                   # the second stage holds longer
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert all(n in readme for n in names) and "playlist.m3u8" in readme
    assert "Every day. Move on when: It feels familiar." in readme
    assert "Wrote 2 of 2 sessions" in result.output

    again = run(program, "-d", folder, cache=shared_cache)
    assert again.exit_code == 0 and "up to date" in again.output and "nothing to do" in again.output

    # A program that loses a stage: the old file goes, and only files the export wrote and nobody changed.
    (folder / "my own notes.mp3").write_bytes(b"not ours")
    shorter = _program(tmp_path, PROGRAM.split("  - stage: Trainer")[0])
    result = run(shorter, "-d", folder, cache=shared_cache)
    assert result.exit_code == 1 and "'my own notes.mp3'" in result.output and "--force" in result.output
    result = run(shorter, "-d", folder, "--force", cache=shared_cache)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.glob("*.mp3")) == ["01 Release the pelvic floor.mp3", "my own notes.mp3"]
    assert not (folder / "02 Trainer, longer holds.vtt").exists() and "Removed 4 file(s)" in result.output
    assert not (folder / "Stage 02 Trainer, longer holds.m3u8").exists()
    assert (folder / "my own notes.mp3").read_bytes() == b"not ours"


ALONGSIDE = """
  - stage: Trainer, longer holds
    script: release.yaml
    set: {hold: 4}
    alongside: [extra.yaml]
"""


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus", "wav"])
def test_every_file_of_a_program_carries_cover_genre_description_and_track(shared_cache, tmp_path, fmt):
    program = _program(tmp_path, PROGRAM.replace("  - stage: Trainer, longer holds\n    script: release.yaml\n"
                                                 "    set: {hold: 4}\n", ALONGSIDE.lstrip("\n")))
    (tmp_path / "extra.yaml").write_text(SCRIPT.lstrip().replace("title: Pelvic floor release for vaginismus",
                                                                 "title: Extra\nabout: Something to do alongside. "
                                                                 "Choose the length with --set hold."),
                                         encoding="utf-8")
    done = export_program(program, tmp_path / "out", shared_cache, fmt=fmt, bundle=True)
    folder = done.folder
    names = [f"01 Release the pelvic floor.{fmt}", f"02 Trainer, longer holds.{fmt}", f"03 Extra.{fmt}"]
    assert [f.path.name for f in done.files] == names
    for number, name in enumerate(names, start=1):
        f = mutagen.File(str(folder / name))
        found = probe(folder / name)
        tags = {**found["format"].get("tags", {}), **[s for s in found["streams"]
                                                     if s["codec_type"] == "audio"][0].get("tags", {})}
        tags = {k.lower(): v for k, v in tags.items()}
        assert tags["genre"] == "Health & Fitness"
        assert tags["track"] in (f"{number}/3", str(number)), tags
        # The script's about, without what it says to the keyboard; a script without one gets no description.
        assert tags.get("comment") == ("Something to do alongside." if number == 3 else None)
        (picture,) = [s for s in found["streams"] if s["codec_type"] == "video"]
        assert picture["disposition"]["attached_pic"] == 1 and picture["codec_name"] == "png"
        if fmt in ("mp3", "wav"):
            assert f.tags.getall("APIC")[0].data == cover_png(discreet=False)
        elif fmt == "m4a":
            assert bytes(f.tags["covr"][0]) == cover_png(discreet=False) and f.tags["trkn"] == [(number, 3)]
        else:
            assert f.tags["TRACKTOTAL"] == ["3"] and f.tags["GENRE"] == ["Health & Fitness"]
        # The chapters JSON beside it: the podcast namespace's format, the very chapters inside the file.
        chapters = json.loads((folder / name.replace(f".{fmt}", ".chapters.json")).read_text(encoding="utf-8"))
        assert chapters["version"] == "1.2.0"
        if fmt != "wav":                              # WAV is for editing: no chapters inside
            assert [(c["title"], round(c["startTime"] * 1000)) for c in chapters["chapters"]] == \
                [(c["tags"]["title"], round(float(c["start_time"]) * 1000)) for c in found["chapters"]]
        assert [c["title"] for c in chapters["chapters"]] == ["Settling the pelvic floor",
                                                              "Tighten and release the vaginal muscles",
                                                              "Breathing after penetration practice"]
    # The whole playlist in program order; one per stage, the alongside session with the stage that lists it.
    whole = parse_m3u8((folder / "playlist.m3u8").read_text(encoding="utf-8"))
    assert [e.file for e in whole] == names
    assert [e.file for e in parse_m3u8((folder / "Stage 01 Release the pelvic floor.m3u8").read_text("utf-8"))] \
        == names[:1]
    second = (folder / "Stage 02 Trainer, longer holds.m3u8").read_text(encoding="utf-8")
    assert [e.file for e in parse_m3u8(second)] == names[1:] and "#PLAYLIST:Step by step with a trainer: stage 2" in second
    assert (folder / "cover.png").read_bytes() == cover_png(discreet=False)
    # Every file written is the export's own: in the manifest, in the zip, and kept on the next run.
    listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    written_here = sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)
    assert sorted(listed) == written_here
    with zipfile.ZipFile(done.bundle) as z:
        assert sorted(z.namelist()) == [n for n in written_here if n != done.bundle.name]
    assert export_program(program, tmp_path / "out", shared_cache, fmt=fmt, bundle=True).unchanged
    assert sorted(p.name for p in folder.iterdir() if p.name != MANIFEST) == written_here


def _everything_a_phone_can_show(folder: Path) -> str:
    shown = [p.name for p in folder.iterdir()]
    for p in folder.iterdir():
        if p.suffix in (".mp3", ".m4a", ".opus", ".wav"):
            f = mutagen.File(str(p))
            # Every text tag; not an Opus picture's base64, whose random letters could spell anything.
            shown += [f"{k}={v}" for k, v in f.tags.items() if k.upper() != "METADATA_BLOCK_PICTURE"] \
                if p.suffix == ".opus" else [f.tags.pprint()]
            if hasattr(f, "chapters") and f.chapters:
                shown += [c.title for c in f.chapters]
            shown.append(json.dumps(probe(p)))
        elif p.suffix == ".png":
            assert p.read_bytes() == cover_png(discreet=True)      # the neutral cover, nothing drawn on it
        else:
            shown.append(p.read_text(encoding="utf-8"))
    return "\n".join(shown).lower()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus"])
def test_discreet_output_says_nothing_personal(shared_cache, tmp_path, fmt):
    program, folder = _program(tmp_path), tmp_path / "out"
    result = run(program, "-d", folder, "-f", fmt, "--discreet", cache=shared_cache)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "README.txt", "Session 01.chapters.json",
                                                         f"Session 01.{fmt}", "Session 02.chapters.json",
                                                         f"Session 02.{fmt}", "Stage 01.m3u8", "Stage 02.m3u8",
                                                         "cover.png", "playlist.m3u8"]
    shown = _everything_a_phone_can_show(folder)
    assert [w for w in SENSITIVE if w in shown] == []
    assert "session 02" in shown and "relaxation" in shown and "part 3" in shown
    assert "one of a series to play in order" in shown          # the neutral description
    single = tmp_path / "single" / "a.mp3"
    single.parent.mkdir()
    export_script(program.with_name("release.yaml"), single, shared_cache, discreet=True)
    assert [w for w in SENSITIVE if w in _everything_a_phone_can_show(single.parent)] == []


@pytest.mark.slow
def test_discreet_writes_a_transcript_only_when_asked(shared_cache, tmp_path, script):
    done = export_script(script, tmp_path / "a.opus", shared_cache, discreet=True, transcript=True)
    assert done.transcript.is_file() and "Well done." in done.transcript.read_text(encoding="utf-8")
    export_script(script, tmp_path / "b.opus", shared_cache)
    assert (tmp_path / "b.vtt").is_file()
    # Made discreet later: the open transcript beside it goes.
    assert export_script(script, tmp_path / "b.opus", shared_cache, discreet=True).transcript is None
    assert not (tmp_path / "b.vtt").exists()


def test_the_command_needs_exactly_one_destination(script, cache, tmp_path):
    neither = run(script, cache=cache)
    both = run(script, "-o", tmp_path / "a.mp3", "-d", tmp_path, cache=cache)
    for result in (neither, both):
        assert result.exit_code == 1 and result.output.startswith("Error: say where to write")
    assert not cache.root.exists()


@pytest.mark.slow
def test_set_on_a_program_is_refused(shared_cache, tmp_path):
    result = run(_program(tmp_path), "-d", tmp_path / "out", "--set", "hold=4", cache=shared_cache)
    assert result.exit_code == 1 and "--set applies to a script" in result.output


@pytest.mark.slow
def test_progress_reaches_the_end_stage_by_stage(shared_cache, tmp_path):
    seen = []
    export_program(_program(tmp_path), tmp_path / "out", shared_cache, fmt="wav",
                   progress=lambda fraction, label, *until: seen.append((fraction, label)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0) and 0 <= fractions[0] < 0.5
    assert re.match(r"Session 1 of 2: ", seen[0][1]) and seen[-1][1].startswith("Session 2 of 2: ")


@pytest.mark.slow
def test_an_hour_exports_in_bounded_memory(tmp_path):
    from benchmarks.export_memory import LIMIT_MB, measure
    result = measure(60, "mp3", tmp_path, tmp_path / "cache")
    assert result["audio_ms"] >= 55 * 60_000
    # The whole hour would be 173 MB of samples alone; streaming keeps us far below that.
    assert result["own_mb"] <= LIMIT_MB and result["ffmpeg_mb"] <= LIMIT_MB
    assert abs(result["lufs"] + 16) <= 1 and result["true_peak"] <= -1


@pytest.mark.slow
def test_render_writes_the_session_exactly_as_play_plays_it(script, shared_cache, tmp_path):
    out = tmp_path / "exact.wav"
    result = CliRunner().invoke(cli, ["--cache-dir", str(shared_cache.root), "render", str(script), "-o", str(out),
                                      "--set", "hold=4"])
    assert result.exit_code == 0, result.output
    assert "no loudness change" in result.output
    expected = prepare(script, shared_cache, overrides={"hold": 4}).audio()
    assert np.array_equal(decode(out), expected)             # sample for sample, nothing mastered
    refused = CliRunner().invoke(cli, ["--cache-dir", str(shared_cache.root), "render", str(script),
                                       "-o", str(tmp_path / "x.mp3")])
    assert refused.exit_code == 1 and "x.mp3: render writes" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "x.mp3").exists() and leftovers(tmp_path) == []


def test_the_stream_header_is_a_wav_that_python_reads_back():
    import io
    import wave
    samples = (np.arange(1000) * 37 % 20000 - 10000).astype(np.int16)
    source, head = ffmpeg.stream_input(len(samples))
    assert source == ffmpeg.WAV_INPUT and len(head) == 44
    with wave.open(io.BytesIO(head + samples.astype("<i2").tobytes())) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, RATE, 1000)
        assert np.array_equal(np.frombuffer(w.readframes(1000), dtype="<i2"), samples)
    assert ffmpeg.stream_input(1 << 31) == (ffmpeg.PCM_INPUT, b"")     # too long for a WAV header: raw


HANDS_FREE = """
voicecoach: 1
title: Shower
steps:
  - section: Breathing
  - say: Let your shoulders drop.
  - pause: 1
  - breathe: {in: 3, out: 4, cycles: 2}
  - section: Squeezing
  - pause: 1
  - squeeze: {hold: 3, rest: 4, reps: 2}
  - wait: {say: "Take your time. Press space when you are ready.", timeout: 3}
  - say: Well done.
"""


@pytest.mark.slow
def test_a_hands_free_export_keeps_the_timing_rules_plus_the_pre_roll(write_script, shared_cache, tmp_path):
    from voicecoach.exercise.medium import for_file
    from voicecoach.exercise.script import load_script
    from voicecoach.exercise.timeline import build_timeline
    from voicecoach.units import samples_to_ms
    path, out = write_script(HANDS_FREE), tmp_path / "shower.wav"
    assert run(path, "-o", out, "--pre-roll", 7, cache=shared_cache).exit_code == 2    # --pre-roll needs --hands-free
    result = run(path, "-o", out, "--hands-free", "--pre-roll", 7, cache=shared_cache)
    assert result.exit_code == 0, result.output
    session = export_script(path, out, shared_cache, hands_free=True, pre_roll=7).session
    samples = decode(out).astype(np.int32)
    # Where the timing rules put each cue with the hands-free voice's lengths, plus the pre-roll.
    durations = {t: samples_to_ms(len(s)) for t, s in session.clips.items()}
    rules = build_timeline(for_file(load_script(path)), durations)

    def onset(ms):
        at = ms * SAMPLES_PER_MS
        window = samples[at - 60 * SAMPLES_PER_MS: at + 60 * SAMPLES_PER_MS]
        return ms - 60 + np.flatnonzero(np.abs(window) >= 256)[0] // SAMPLES_PER_MS

    spoken = [c for c in session.timeline.cues if c.kind == "speech" and c.role != "pre-roll"]
    assert len(spoken) == len(rules.cues) == 11
    for cue, rule in zip(spoken, rules.cues):
        assert cue.text == rule.text and abs(onset(rule.start + 7000) - (rule.start + 7000)) <= 10, cue
    earcons = [c for c in session.timeline.cues if c.kind == "earcon"]
    phases = [c for c in spoken if c.role in ("tighten", "release", "in", "out")]
    assert len(earcons) == len(phases) == 8
    for earcon, phase in zip(earcons, phases):
        assert earcon.end < phase.start and onset(earcon.start) < onset(phase.start) - 100
    # The chapters move with the session.
    assert [s.start for s in session.timeline.sections] == [s.start + 7000 for s in rules.sections]


@pytest.mark.parametrize("about, shown", [
    ("Practice with one trainer.\n  Choose the size with --set size. About 8 minutes.",
     "Practice with one trainer. About 8 minutes."),
    ("See `voicecoach show program` for the stages. Go gently!", "Go gently!"),
    ("A ten-minute walk -- or less -- helps.", "A ten-minute walk -- or less -- helps."),
    ("Use --voice to choose.", ""),
])
def test_a_files_description_leaves_out_what_is_said_to_the_keyboard(about, shown):
    from voicecoach.export.file import for_listeners
    assert for_listeners(about) == shown


def _longest_silence_ms(samples: np.ndarray, below: int = 100) -> int:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= below)
    edges = np.concatenate(([0], loud, [len(samples)]))
    return int(np.max(np.diff(edges))) // SAMPLES_PER_MS


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "scripts").glob("*.yaml") if p.stem != "program"))
def test_no_library_file_says_press_or_space_or_goes_quiet_for_30_seconds(name, shared_cache, tmp_path):
    from voicecoach.exercise import medium
    done = export_script(ROOT / "scripts" / name, tmp_path / "s.wav", shared_cache)
    words = done.transcript.read_text(encoding="utf-8").lower()
    assert re.findall(r"\b(press|space)\b", words) == []      # "pressure" is fine
    # Sections a script keeps quiet on purpose (`keep_alive: false`, sensate focus's time together) may be
    # silent for longer; everywhere else a file never seems to have stopped.
    samples = decode(done.path).copy()
    for start, end in medium.quiet_spans(done.session.timeline, done.session.script):
        samples[start * SAMPLES_PER_MS:end * SAMPLES_PER_MS] = 1000
    assert _longest_silence_ms(samples) <= 30_000


@pytest.mark.slow
def test_the_library_program_folder_holds_every_stage_and_alongside_session_discreetly(shared_cache, tmp_path):
    from voicecoach.exercise.program import load_program
    program, folder = load_program(ROOT / "scripts" / "program.yaml"), tmp_path / "out"
    result = run(ROOT / "scripts" / "program.yaml", "-d", folder, "--discreet", cache=shared_cache)
    assert result.exit_code == 0, result.output
    # Program order: each stage, then the sessions it lists alongside that no earlier stage listed.
    order, seen = [], set()
    for number, stage in enumerate(program.stages, start=1):
        order.append(("stage", number))
        for p in stage.alongside:
            if p.resolve() not in seen:
                seen.add(p.resolve())
                order.append(("alongside", p.resolve()))
    n = len(order)
    names = [f"Session {i:02d}.mp3" for i in range(1, n + 1)]
    stage_lists = [f"Stage {k:02d}.m3u8" for k in range(1, len(program.stages) + 1)]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        names + [n.replace(".mp3", ".chapters.json") for n in names] + stage_lists
        + [MANIFEST, "README.txt", "playlist.m3u8", "cover.png"])
    assert [e.file for e in parse_m3u8((folder / "playlist.m3u8").read_text(encoding="utf-8"))] == names
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    for (kind, what), name in zip(order, names):
        (line,) = [ln for ln in readme.splitlines() if name in ln]
        assert "minute" in line and ("stage" in line)
        if kind == "stage":
            assert line.endswith(f", stage {what})")
    # The shower session goes with the four trainer stages (3 to 6), right after stage 3, named after the stages.
    shower = order.index(("alongside", (ROOT / "scripts" / "shower.yaml").resolve())) + 1
    assert order[shower - 3] == ("stage", 3)          # after stage 3 and sensate focus, which stage 3 lists first
    assert f"Session {shower:02d}.mp3  (about 3 minutes, alongside stages 3 to 6)" in readme
    # Stage 4's playlist: its own session, then the two it lists alongside, in the order it lists them.
    four = parse_m3u8((folder / "Stage 04.m3u8").read_text(encoding="utf-8"))
    assert [e.file for e in four] == [names[order.index(("stage", 4))], names[shower - 2], names[shower - 1]]
    shown = _everything_a_phone_can_show(folder)
    assert [w for w in SENSITIVE + ["partner", "shower", "breath", "kegel", "sensate", "tummy", "hard"]
            if w in shown] == []
