"""Export keeps its hands off what it did not write: a program folder's own files are listed in a manifest
and only those, unchanged, are replaced or removed; a transcript or bed beside -o is the user's unless
it shows otherwise; killed exports' partials are swept; every tag text comes out exactly as given;
messages name the real cause (a file-size limit, a folder in the way)."""

from __future__ import annotations

import errno
import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import mutagen
import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.audio.tags import Chapter, Tags
from voicecoach.audio.wav import write_wav
from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.transcript import webvtt
from voicecoach.export.file import export_session, is_our_transcript, prepare_for_file
from voicecoach.export.manifest import MANIFEST, Manifest, record_of
from voicecoach.export.program import export_program
from voicecoach.files import write_text, written
from voicecoach.units import RATE

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
voicecoach: 1
title: Calm breathing
steps:
  - section: Arriving
  - say: Welcome.
  - section: Breathing
  - say: Breathe out slowly.
"""

PROGRAM = """
voicecoach: 1
title: Two steps
stages:
  - stage: First
    script: calm.yaml
    move_on_when: It feels familiar.
    frequency: every day
  - stage: Second
    script: calm.yaml
    move_on_when: It feels easy.
    frequency: every day
"""

WRITES = ["01 First.mp3", "01 First.vtt", "01 First.chapters.json", "02 Second.mp3", "02 Second.vtt",
          "02 Second.chapters.json", "README.txt", "playlist.m3u8", "Stage 01 First.m3u8", "Stage 02 Second.m3u8",
          "cover.png"]


def _program(folder: Path, body: str = PROGRAM) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calm.yaml").write_text(SCRIPT.lstrip(), encoding="utf-8")
    path = folder / "program.yaml"
    path.write_text(body.lstrip(), encoding="utf-8")
    return path


def run(*args, cache):
    return CliRunner().invoke(cli, ["--cache-dir", str(cache.root), *map(str, args)])


def users_folder(folder: Path) -> dict[str, tuple[bytes, int]]:
    """A folder of the user's own: a song, its subtitles, notes and a playlist that lists them (old times)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"01 My song.mp3": b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8,
             "01 My song.vtt": b"WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nla la la\n",
             "README.txt": b"My own notes about these songs.\n",
             "playlist.m3u8": b"#EXTM3U\n#EXTINF:120,My song\n01 My song.mp3\n"}
    for n, (name, data) in enumerate(files.items()):
        (folder / name).write_bytes(data)
        os.utime(folder / name, ns=(1_600_000_000_000_000_000 + n, 1_600_000_000_000_000_000 + n))
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------- a program folder holds the user's files

def test_export_d_refuses_a_folder_of_the_users_files_and_touches_none(tmp_path, cache):
    before = users_folder(tmp_path / "music")
    result = run("export", _program(tmp_path / "p"), "-d", tmp_path / "music", cache=cache)
    assert result.exit_code == 1, result.output
    line = result.output.strip()
    assert "\n" not in line and "holds 4 file(s) voicecoach did not write" in line and "--force" in line
    assert "'01 My song.mp3'" in line and "empty" in line
    assert snapshot(tmp_path / "music") == before
    assert not cache.root.exists()                      # refused before anything was rendered


def test_serve_dir_refuses_a_folder_of_the_users_files_and_touches_none(tmp_path, cache, monkeypatch):
    from voicecoach.phone import share
    monkeypatch.setattr(share.Sharing, "run", lambda self: None)      # never serve for long, whatever happens
    before = users_folder(tmp_path / "music")
    result = run("serve", _program(tmp_path / "p"), "--dir", tmp_path / "music", "--port", "0", cache=cache)
    assert result.exit_code == 1 and "voicecoach did not write" in result.output and "--force" in result.output
    assert snapshot(tmp_path / "music") == before


@pytest.mark.slow
def test_force_writes_beside_the_users_files_and_removes_none_of_them(tmp_path, shared_cache):
    music = tmp_path / "music"
    before = users_folder(music)
    program = _program(tmp_path / "p")
    result = run("export", program, "-d", music, "--force", cache=shared_cache)
    assert result.exit_code == 0, result.output
    after = snapshot(music)
    # Decided: with --force the names the export needs (README.txt, playlist.m3u8) are replaced; nothing
    # else of the user's changes, and nothing of theirs is ever removed.
    assert {n for n in before if after.get(n) != before[n]} == {"README.txt", "playlist.m3u8"}
    assert sorted(after) == sorted([MANIFEST, "01 My song.mp3", "01 My song.vtt", *WRITES])
    # Their song is still theirs: a later, shorter program with --force leaves it, and removes only its own.
    shorter = _program(tmp_path / "p", PROGRAM.split("  - stage: Second")[0])
    again = run("export", shorter, "-d", music, "--force", cache=shared_cache)
    assert again.exit_code == 0, again.output
    for name in ("01 My song.mp3", "01 My song.vtt"):
        assert snapshot(music)[name] == before[name]
    assert not (music / "02 Second.mp3").exists() and not (music / "02 Second.vtt").exists()
    assert not (music / "Stage 02 Second.m3u8").exists() and not (music / "02 Second.chapters.json").exists()
    assert "Removed 4 file(s)" in again.output
    # Without --force the folder is still refused: the user's files are still there.
    assert run("export", shorter, "-d", music, cache=shared_cache).exit_code == 1


@pytest.mark.slow
def test_a_file_of_ours_changed_since_is_the_users(tmp_path, shared_cache):
    folder, program = tmp_path / "out", _program(tmp_path / "p")
    done = export_program(program, folder, shared_cache)
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, *WRITES])
    assert not done.removed
    # Re-exporting a folder of only our own files is fine, and does no work.
    assert export_program(program, folder, shared_cache).unchanged
    edited = folder / "02 Second.vtt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nNOTE my own note\n", encoding="utf-8")
    shorter = _program(tmp_path / "p", PROGRAM.split("  - stage: Second")[0])
    with pytest.raises(VoicecoachError, match="holds 1 file.*'02 Second.vtt'"):
        export_program(shorter, folder, shared_cache)
    done = export_program(shorter, folder, shared_cache, force=True)
    assert [p.name for p in done.removed] == ["02 Second.chapters.json", "02 Second.mp3", "Stage 02 Second.m3u8"]
    assert "my own note" in edited.read_text(encoding="utf-8")
    listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert "02 Second.vtt" not in listed and "01 First.mp3" in listed


@pytest.mark.slow
def test_an_export_stopped_mid_way_leaves_a_folder_it_can_finish(tmp_path, shared_cache, monkeypatch):
    from voicecoach.export import file as exporting
    folder, program = tmp_path / "out", _program(tmp_path / "p")
    real, calls = exporting.encode, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    monkeypatch.setattr(exporting, "encode", second_fails)
    with pytest.raises(KeyboardInterrupt):
        export_program(program, folder, shared_cache)
    monkeypatch.setattr(exporting, "encode", real)
    # The first stage's file is recorded as ours the moment it is in place: the next export is not refused.
    assert "01 First.mp3" in json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    done = export_program(program, folder, shared_cache)
    assert [f.skipped for f in done.files] == [True, False]


def test_a_manifest_speaks_only_for_unchanged_files_of_its_own_folder(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n", encoding="utf-8")
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    (folder / "old.mp3").write_bytes(b"ours")
    record, notes = record_of(folder / "old.mp3"), record_of(folder / "notes.txt")
    (folder / "notes.txt").write_text("mine, edited\n", encoding="utf-8")    # changed since: not ours
    forged = {"version": 1, "files": {"../victim.txt": [record_of(victim).to_dict()], "old.mp3": [record.to_dict()],
                                      "notes.txt": [notes.to_dict()], "/etc/passwd": [record.to_dict()]}}
    (folder / MANIFEST).write_text(json.dumps(forged), encoding="utf-8")
    manifest = Manifest.load(folder)
    assert manifest.others() == ["notes.txt"]
    assert [p.name for p in manifest.settle([])] == ["old.mp3"]
    assert victim.read_text(encoding="utf-8") == "keep me\n" and (folder / "notes.txt").exists()
    # A manifest that cannot be read speaks for nothing.
    (folder / "again.mp3").write_bytes(b"x")
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    assert Manifest.load(folder).others() == ["again.mp3", "notes.txt"]


def test_a_copy_that_kept_the_bytes_but_not_the_time_is_still_ours(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n", encoding="utf-8")
    manifest = Manifest(folder, {"a.txt": (record_of(folder / "a.txt"),)})
    os.utime(folder / "a.txt", ns=(1, 1))
    assert Manifest(folder, manifest.files).owns("a.txt")
    (folder / "a.txt").write_text("hellO\n", encoding="utf-8")               # same size, other bytes
    assert not Manifest(folder, manifest.files).owns("a.txt")


@pytest.mark.slow
def test_each_export_sweeps_dead_partials_of_its_own_and_nothing_else(tmp_path, shared_cache):
    folder, program = tmp_path / "out", _program(tmp_path / "p")
    export_program(program, folder, shared_cache)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    gone = [f".03 Dropped stage.mp3.{dead}.0123456789abcdef.partial",
            f".03 Dropped stage.mp3.{dead}.0123456789abcdef.partial.tags",
            f".README.txt.{dead}.fedcba9876543210.partial"]
    kept = [f".01 First.mp3.{os.getpid()}.0123456789abcdef.partial",      # a live writer's
            f".mine.{dead}.partial"]                                         # not named as ours name them
    for name in gone + kept:
        (folder / name).write_bytes(b"half")
    # Our partials are ours: the folder is not refused for them (the user's hidden file does make it so).
    (folder / kept[1]).unlink()
    export_program(program, folder, shared_cache)
    names = {p.name for p in folder.iterdir()}
    assert not names & set(gone) and kept[0] in names
    (folder / kept[1]).write_bytes(b"half")
    with pytest.raises(VoicecoachError, match=r"\.mine\."):
        export_program(program, folder, shared_cache)


# ---------------------------------------------------------------- beside a single file

def test_a_transcript_of_the_users_beside_o_is_not_replaced(tmp_path, cache):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    mine = tmp_path / "song.vtt"
    mine.write_text("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nmy own words\n", encoding="utf-8")
    before = mine.read_bytes()
    result = run("export", script, "-o", tmp_path / "song.mp3", cache=cache)
    assert result.exit_code == 1 and "song.vtt" in result.output and "--no-transcript" in result.output
    assert mine.read_bytes() == before and not (tmp_path / "song.mp3").exists()


@pytest.mark.slow
def test_o_replaces_only_its_own_transcript_or_one_it_is_told_to(tmp_path, shared_cache):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    mine = tmp_path / "song.vtt"
    mine.write_text("WEBVTT\n\nmy own words\n", encoding="utf-8")
    assert run("export", script, "-o", tmp_path / "song.mp3", "--no-transcript", cache=shared_cache).exit_code == 0
    assert mine.read_text(encoding="utf-8") == "WEBVTT\n\nmy own words\n"
    forced = run("export", script, "-o", tmp_path / "song.mp3", "--force", cache=shared_cache)
    assert forced.exit_code == 0, forced.output
    assert is_our_transcript(mine) and "Breathe out slowly." in mine.read_text(encoding="utf-8")
    again = run("export", script, "-o", tmp_path / "song.mp3", cache=shared_cache)
    assert again.exit_code == 0 and "up to date" in again.output          # our own: not refused
    # Edited since: the user's now.
    mine.write_text(mine.read_text(encoding="utf-8").replace("slowly", "gently"), encoding="utf-8")
    assert not is_our_transcript(mine)
    assert run("export", script, "-o", tmp_path / "song.mp3", cache=shared_cache).exit_code == 1
    # What an earlier version wrote (unmarked) for this very session is ours, and gets the mark.
    session = prepare_for_file(script, shared_cache)
    mine.write_text(webvtt(session.timeline), encoding="utf-8")
    assert run("export", script, "-o", tmp_path / "song.mp3", cache=shared_cache).exit_code == 0
    assert is_our_transcript(mine)


@pytest.mark.slow
def test_discreet_removes_only_its_own_transcript(tmp_path, shared_cache):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    subtitles = tmp_path / "song.vtt"
    subtitles.write_text("WEBVTT\n\nsomething of mine\n", encoding="utf-8")
    refused = run("export", script, "-o", tmp_path / "song.mp3", "--discreet", cache=shared_cache)
    assert refused.exit_code == 1 and "song.vtt" in refused.output and "discreet" in refused.output
    assert run("export", script, "-o", tmp_path / "song.mp3", "--discreet", "--force",
               cache=shared_cache).exit_code == 0
    assert subtitles.read_text(encoding="utf-8") == "WEBVTT\n\nsomething of mine\n"
    subtitles.write_text("not a transcript at all\n", encoding="utf-8")     # not one: simply left alone
    assert run("export", script, "-o", tmp_path / "song.mp3", "--discreet", cache=shared_cache).exit_code == 0
    assert subtitles.exists()
    subtitles.unlink()
    assert run("export", script, "-o", tmp_path / "song.mp3", cache=shared_cache).exit_code == 0
    assert is_our_transcript(subtitles)
    assert run("export", script, "-o", tmp_path / "song.mp3", "--discreet", cache=shared_cache).exit_code == 0
    assert not subtitles.exists()


def test_a_folder_where_the_transcript_goes_is_named_before_anything_is_written(tmp_path, cache):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    (tmp_path / "song.vtt").mkdir()
    result = run("export", script, "-o", tmp_path / "song.mp3", cache=cache)
    assert result.exit_code == 1, result.output
    assert "song.vtt: a folder of that name is in the way of the transcript" in result.output
    assert "--no-transcript" in result.output and "nothing was left behind" not in result.output
    assert not (tmp_path / "song.mp3").exists() and not cache.root.exists()


@pytest.fixture
def bed(tmp_path) -> Path:
    path = tmp_path / "beds" / "bed.wav"
    path.parent.mkdir()
    noise = np.random.default_rng(1).normal(0, 2000, 4 * RATE).astype(np.int16)
    write_wav(path, [noise])
    return path


@pytest.mark.parametrize("how", ["same", "relative", "symlink", "hardlink"])
def test_an_output_that_is_the_bed_it_reads_is_refused(tmp_path, cache, bed, how, monkeypatch):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    before = bed.read_bytes()
    out = {"same": bed, "relative": Path("beds") / ".." / "beds" / "bed.wav"}.get(how, tmp_path / "out.wav")
    if how == "symlink":
        out.symlink_to(bed)
    elif how == "hardlink":
        os.link(bed, out)
    monkeypatch.chdir(tmp_path)
    result = run("export", script, "-o", out, "--background", bed, cache=cache)
    assert result.exit_code == 1 and "background sound this export reads" in result.output, result.output
    assert bed.read_bytes() == before and not cache.root.exists()


@pytest.mark.slow
def test_a_program_folder_that_holds_its_bed_is_refused(tmp_path, shared_cache, bed):
    program = _program(tmp_path / "p")
    folder = tmp_path / "out"
    export_program(program, folder, shared_cache)
    os.replace(bed, folder / "README.txt")
    bed = folder / "README.txt"
    before = bed.read_bytes()
    with pytest.raises(VoicecoachError, match="background sound"):
        export_program(program, folder, shared_cache, background=str(bed), force=True)
    assert bed.read_bytes() == before


# ---------------------------------------------------------------- texts in tags and chapters

HOSTILE = Tags(title="slow\\", album="a=b; c # d\\", artist="one\ntwo\\", track=1, tracks=2,
               chapters=(Chapter("first\\", 0, 1000), Chapter("#second; = \\", 1000, 2000),
                         Chapter("third\nline \\\\", 2000, 3000)))


def _ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-show_chapters",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    found = json.loads(out)
    tags = dict(found.get("format", {}).get("tags", {}))
    for stream in found.get("streams", []):
        tags.update(stream.get("tags", {}))
    return {"tags": {k.lower(): v for k, v in tags.items()},
            "chapters": [c["tags"].get("title") for c in found.get("chapters", [])]}


@pytest.mark.slow
def test_a_backslash_or_ffmetadata_character_comes_out_exactly_in_every_format(tmp_path, shared_cache):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    session = prepare_for_file(script, shared_cache)
    chapters = tuple(Chapter(c.title, min(c.start, session.timeline.length - 2),
                             min(c.end, session.timeline.length - 1)) for c in HOSTILE.chapters)
    tags = Tags(HOSTILE.title, HOSTILE.album, HOSTILE.artist, 1, 2, chapters)
    wrong = []
    for fmt in ("mp3", "m4a", "opus", "wav"):
        done = export_session(session, tmp_path / f"s.{fmt}", tags, cache=shared_cache, transcript=False)
        seen = _ffprobe(done.path)
        f = mutagen.File(str(done.path), easy=fmt != "wav")
        got = [seen["tags"].get("title"), seen["tags"].get("album"), seen["tags"].get("artist")]
        if fmt == "wav":                                        # WAV is for editing: no chapters
            got += [str(f.tags["TIT2"]), str(f.tags["TALB"])]
            wanted = [tags.title, tags.album, tags.artist, tags.title, tags.album]
        else:
            got += [f["title"], f["album"], seen["chapters"]]
            wanted = [tags.title, tags.album, tags.artist, [tags.title], [tags.album], [c.title for c in chapters]]
        if got != wanted:
            wrong.append((fmt, got))
    assert wrong == []


@pytest.mark.slow
def test_a_script_titled_with_a_trailing_backslash_exports_its_tags_and_chapters(tmp_path, shared_cache):
    script = tmp_path / "odd.yaml"
    script.write_text(SCRIPT.replace("Calm breathing", '"Calm \\\\"').replace("section: Arriving",
                                                                              'section: "A = b; #c \\\\"'),
                      encoding="utf-8")
    out = tmp_path / "odd.mp3"
    result = run("export", script, "-o", out, cache=shared_cache)
    assert result.exit_code == 0, result.output
    seen = _ffprobe(out)
    assert seen["tags"]["title"] == "Calm \\" and seen["tags"]["album"] == "Calm \\"
    assert seen["chapters"] == ["A = b; #c \\", "Breathing"]


# ---------------------------------------------------------------- messages name the real cause

def test_a_file_size_limit_is_not_called_a_full_disk(tmp_path):
    with pytest.raises(VoicecoachError) as found, written(tmp_path / "big.wav"):
        raise OSError(errno.EFBIG, "File too large")
    assert "file-size limit" in str(found.value) and "no space" not in str(found.value)
    with pytest.raises(VoicecoachError, match="no space left"), written(tmp_path / "big.wav"):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_folder_in_the_way_of_a_text_file_is_named(tmp_path):
    (tmp_path / "notes.txt").mkdir()
    with pytest.raises(VoicecoachError, match="notes.txt: could not be written: a folder of that name is in the way"):
        write_text(tmp_path / "notes.txt", "hello\n")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_an_export_over_ulimit_f_says_file_size_limit(tmp_path, shared_cache, fmt):
    script = _program(tmp_path / "p").with_name("calm.yaml")
    assert run("export", script, "-o", tmp_path / f"warm.{fmt}", cache=shared_cache).exit_code == 0
    out = tmp_path / f"small.{fmt}"
    limit = (tmp_path / f"warm.{fmt}").stat().st_size // 2

    def small_files():                      # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    done = subprocess.run([sys.executable, "-m", "voicecoach.cli", "--cache-dir", str(shared_cache.root), "export",
                           str(script), "-o", str(out)], capture_output=True, text=True, preexec_fn=small_files,
                          cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert "file-size limit" in done.stderr and "no space" not in done.stderr, done.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("command", [["remind"], ["log", "export"], ["pack", "phrases", "mine", "shower"]])
def test_a_file_written_over_a_pipe_or_device_is_refused_and_the_thing_stays(tmp_path, command):
    # A rename over a device replaces it with a plain file: as root, `remind -o /dev/null` replaced /dev/null.
    # A FIFO stands in for the device here, so that a failure cannot harm the machine.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = CliRunner().invoke(cli, [*command, "-o", str(fifo)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{fifo}:" in result.output and "is not a file" in result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
