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


# What a phone's player shows beside the title: cover, genre, description, track n of total.


def _cover() -> bytes:
    from voicecoach.export.cover import cover_png
    return cover_png(discreet=False)


SHOWN = Tags(title="Letting go", album="Step by step", artist="voicecoach", track=3, tracks=8,
             chapters=TAGS.chapters, genre="Health & Fitness", description="Slow breaths, then letting go: ünïcode & more")


def _audio_and_picture(path):
    """ffprobe's audio stream tags (with the file's) and its attached pictures."""
    found = probe(path)
    audio = [s for s in found["streams"] if s["codec_type"] == "audio"]
    pictures = [s for s in found["streams"] if s["codec_type"] == "video"]
    tags = {**found["format"].get("tags", {}), **audio[0].get("tags", {})}
    return {k.lower(): v for k, v in tags.items()}, pictures


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "opus", "wav"])
def test_cover_genre_description_and_track_read_back_with_mutagen_and_ffprobe(tmp_path, tone, fmt):
    from dataclasses import replace
    tags = replace(SHOWN, cover=_cover())
    path = write_audio(tone, tmp_path / f"t.{fmt}")
    write_tags(path, fmt, tags)
    f = mutagen.File(str(path))
    if fmt in ("mp3", "wav"):
        (apic,) = f.tags.getall("APIC")
        (comm,) = f.tags.getall("COMM")
        assert apic.data == tags.cover and apic.mime == "image/png" and apic.type == 3     # the front cover
        assert str(f.tags["TCON"]) == "Health & Fitness" and comm.text == [tags.description]
        assert str(f.tags["TRCK"]) == "3/8"
    elif fmt == "m4a":
        assert bytes(f.tags["covr"][0]) == tags.cover and f.tags["covr"][0].imageformat == 14    # PNG
        assert f.tags["\xa9gen"] == ["Health & Fitness"] and f.tags["desc"] == [tags.description]
        assert f.tags["\xa9cmt"] == [tags.description] and f.tags["trkn"] == [(3, 8)]
    else:
        import base64

        from mutagen.flac import Picture
        picture = Picture(base64.b64decode(f.tags["METADATA_BLOCK_PICTURE"][0]))
        assert picture.data == tags.cover and picture.type == 3 and picture.width == 1400
        assert f.tags["GENRE"] == ["Health & Fitness"] and f.tags["DESCRIPTION"] == [tags.description]
        assert (f.tags["TRACKNUMBER"], f.tags["TRACKTOTAL"]) == (["3"], ["8"])
    found, pictures = _audio_and_picture(path)
    assert found["genre"] == "Health & Fitness" and found["comment"] == tags.description
    assert found["track"] in ("3/8", "3")
    (picture,) = pictures
    assert picture["codec_name"] == "png" and picture["disposition"]["attached_pic"] == 1
    assert (picture["width"], picture["height"]) == (1400, 1400)


def test_the_mp3_tag_ffmpeg_writes_gains_cover_genre_and_description_and_keeps_its_chapter_order(tmp_path, tone):
    from dataclasses import replace

    from voicecoach.audio.tags import id3_extra
    from voicecoach.export.encode import id3_tag
    # Titles of different lengths: mutagen rewriting the whole tag would put the CHAP frames in size order.
    chapters_ = (Chapter("A much longer first chapter title", 0, 1000), Chapter("Two", 1000, 2000),
                 Chapter("Third, middling", 2000, 2999))
    tags = replace(SHOWN, chapters=chapters_, cover=_cover())
    audio = tmp_path / "audio.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0",
                    "-c:a", "libmp3lame", "-id3v2_version", "0", "-write_id3v1", "0", str(audio)],
                   input=tone.tobytes(), check=True)
    plain = id3_tag(tmp_path / "x.partial", tags)
    joined = tmp_path / "joined.mp3"
    joined.write_bytes(id3_extra(plain, tags) + audio.read_bytes())
    found = probe(joined)
    assert [c["tags"]["title"] for c in found["chapters"]] == [c.title for c in chapters_]
    assert [round(float(c["start_time"]) * 1000) for c in found["chapters"]] == [0, 1000, 2000]
    shown, pictures = _audio_and_picture(joined)
    assert (shown["title"], shown["genre"], shown["comment"], shown["track"]) == \
        ("Letting go", "Health & Fitness", tags.description, "3/8")
    assert [p["disposition"]["attached_pic"] for p in pictures] == [1]
    from mutagen.id3 import ID3
    id3 = ID3(str(joined))
    assert id3.getall("APIC")[0].data == tags.cover and id3.getall("COMM")[0].text == [tags.description]
    assert [c.element_id for c in id3.getall("CHAP")] == ["ch0", "ch1", "ch2"]      # in file order
    assert abs(float(found["format"]["duration"]) - 3.0) < 0.1       # the audio still starts after the tag
    assert id3_extra(plain, Tags("a", "b", "c")) == plain              # nothing to add: the tag as it was


def test_the_new_fields_change_the_fingerprint_only_when_given():
    from dataclasses import replace
    assert "genre" not in TAGS.to_dict() and "cover" not in TAGS.to_dict()
    with_cover = replace(TAGS, cover=b"\x89PNG...", genre="Speech", description="About")
    assert with_cover.to_dict()["cover"][1] != replace(with_cover, cover=b"\x89PNG,,,").to_dict()["cover"][1]
    assert with_cover.to_dict()["genre"] == "Speech" and with_cover.to_dict()["description"] == "About"
