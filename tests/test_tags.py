"""Tags and chapters: written with mutagen (or by ffmpeg from ffmetadata), read back by mutagen and ffprobe."""

import json
import subprocess

import mutagen
import numpy as np
import pytest

from voicecoach.audio.tags import Chapter, Tags, chapters, ffmetadata, metadata_args, read_fingerprint, write_tags
from voicecoach.exercise.timeline import Mark, Timeline
from voicecoach.export.formats import write_audio
from voicecoach.units import RATE

TAGS = Tags(title="Letting go", album="Step by step", artist="voicecoach", track=2, tracks=5,
            chapters=(Chapter("Settling in", 0, 1234), Chapter("Breathe = slowly; #2", 1234, 2999)),
            fingerprint="ab" * 32)


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def probe_tags(path) -> dict:
    """Every tag ffprobe sees (Ogg keeps them on the stream, other containers on the file), lower-cased keys."""
    found = probe(path)
    merged = dict(found["format"].get("tags", {}))
    for stream in found["streams"]:
        merged.update(stream.get("tags", {}))
    return {k.lower(): v for k, v in merged.items()}


@pytest.fixture(scope="module")
def tone():
    t = np.arange(3 * RATE) / RATE
    return np.round(0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


def test_one_chapter_per_section_to_the_next():
    tl = Timeline("T", (), (Mark("A", 0, 1), Mark("B", 1500, 4), Mark("C", 1500, 6)), 9000)
    assert chapters(tl) == (Chapter("A", 0, 1500), Chapter("B", 1500, 1500), Chapter("C", 1500, 9000))
    assert [c.title for c in chapters(tl, discreet=True)] == ["Part 1", "Part 2", "Part 3"]
    assert chapters(Timeline("T", (), (), 100)) == ()


def test_ffmetadata_holds_only_times_and_every_text_goes_on_the_command_line():
    text = ffmetadata(TAGS)
    assert text.startswith(";FFMETADATA1\n") and "START=1234\nEND=2999" in text
    assert "title" not in text and "Breathe" not in text
    args = metadata_args(TAGS, tags_too=True)
    assert args[args.index("title=Letting go") - 1] == "-metadata"
    assert "track=2/5" in args and f"fingerprint={'ab' * 32}" in args
    assert args[-2:] == ["-metadata:c:1", "title=Breathe = slowly; #2"]
    assert not any(a.startswith("album=") for a in metadata_args(TAGS))    # chapters only, unless asked


# Each ends in a backslash or holds what ffmetadata escapes. ffmpeg 5.1 read `title=slow\\` as a line
# continuation: the next key became part of the title.
HOSTILE = Tags(title="slow\\", album="a=b; c # d\\", artist="one\ntwo\\", track=1, tracks=2,
               chapters=(Chapter("first\\", 0, 1000), Chapter("#second; = \\", 1000, 2000),
                         Chapter("third\nline\\", 2000, 2999)), fingerprint="cd" * 32)


@pytest.mark.parametrize("ext", ["mp3", "m4a"])
def test_texts_ffmpeg_writes_come_out_exactly(tmp_path, tone, ext):
    meta = tmp_path / "meta.txt"
    meta.write_text(ffmetadata(HOSTILE), encoding="utf-8")
    out = tmp_path / f"t.{ext}"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0",
                    "-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1",
                    *metadata_args(HOSTILE, tags_too=True), str(out)], input=tone.tobytes(), check=True)
    found = probe(out)
    assert [c["tags"]["title"] for c in found["chapters"]] == [c.title for c in HOSTILE.chapters]
    assert [round(float(c["start_time"]) * 1000) for c in found["chapters"]] == [0, 1000, 2000]
    tags = probe_tags(out)
    assert (tags["title"], tags["album"], tags["artist"]) == (HOSTILE.title, HOSTILE.album, HOSTILE.artist)


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus", "wav"])
def test_tags_read_back_with_mutagen_and_ffprobe(tmp_path, tone, fmt):
    path = write_audio(tone, tmp_path / f"t.{fmt}")
    write_tags(path, fmt, TAGS)
    f = mutagen.File(str(path), easy=fmt != "wav")
    if fmt == "wav":
        id3 = f.tags
        assert [str(id3[k]) for k in ("TIT2", "TALB", "TPE1", "TRCK")] == ["Letting go", "Step by step",
                                                                            "voicecoach", "2/5"]
    else:
        assert (f["title"], f["album"], f["artist"]) == (["Letting go"], ["Step by step"], ["voicecoach"])
        assert f["tracknumber"][0] in ("2/5", "2")
    assert read_fingerprint(path) == "ab" * 32
    fmt_tags = probe_tags(path)
    assert fmt_tags["title"] == "Letting go" and fmt_tags["album"] == "Step by step"


def test_mp3_chapters_are_id3_chap_and_ctoc_in_milliseconds(tmp_path, tone):
    from mutagen.id3 import ID3
    path = write_audio(tone, tmp_path / "t.mp3")
    write_tags(path, "mp3", TAGS)
    id3 = ID3(str(path))
    assert id3.version[:2] == (2, 3)
    chaps = {c.element_id: c for c in id3.getall("CHAP")}
    (toc,) = id3.getall("CTOC")
    got = [(chaps[i].sub_frames["TIT2"].text[0], chaps[i].start_time, chaps[i].end_time) for i in toc.child_element_ids]
    assert got == [(c.title, c.start, c.end) for c in TAGS.chapters]


def test_opus_chapters_are_vorbis_comments_ffprobe_reads(tmp_path, tone):
    path = write_audio(tone, tmp_path / "t.opus")
    write_tags(path, "opus", TAGS)
    comments = mutagen.File(str(path)).tags
    assert comments["CHAPTER000"] == ["00:00:00.000"] and comments["CHAPTER001"] == ["00:00:01.234"]
    assert comments["CHAPTER001NAME"] == ["Breathe = slowly; #2"]
    found = probe(path)["chapters"]
    assert [(round(float(c["start_time"]) * 1000), c["tags"]["title"]) for c in found] == \
        [(c.start, c.title) for c in TAGS.chapters]


def test_rewriting_replaces_every_old_tag(tmp_path, tone):
    path = write_audio(tone, tmp_path / "t.opus", title="Old words")
    write_tags(path, "opus", Tags(title="Session 01", album="Relaxation", artist="Relaxation"))
    text = json.dumps(probe_tags(path))
    assert "Old words" not in text and "Lavf" not in text and "Session 01" in text
    assert read_fingerprint(path) is None


def test_no_fingerprint_in_missing_foreign_or_damaged_files(tmp_path):
    assert read_fingerprint(tmp_path / "absent.mp3") is None
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x10not really an mp3")
    assert read_fingerprint(junk) is None
    text = tmp_path / "notes.m4a"
    text.write_text("hello")
    assert read_fingerprint(text) is None
