"""Tags and chapters a phone shows: MP4 atoms, Vorbis comments (with CHAPTERxxx) and ID3 in WAV written
with mutagen; MP3's ID3v2.3 with CHAP/CTOC and MP4 chapters written by ffmpeg as it muxes (see metadata_args),
and the MP3's genre, description and cover frames made by mutagen and put into ffmpeg's tag (see id3_extra).
Everything is read back with mutagen."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from voicecoach.errors import VoicecoachError
from voicecoach.exercise.timeline import Timeline
from voicecoach.units import timestamp

FINGERPRINT = "fingerprint"                      # where an export records what it was made from
MP4_FINGERPRINT = "----:org.voicecoach:fingerprint"
NO_OFFSET = 0xFFFFFFFF                            # ID3 CHAP: "byte offsets not given, use the times"


@dataclass(frozen=True)
class Chapter:
    title: str
    start: int      # ms
    end: int        # ms


@dataclass(frozen=True)
class Tags:
    title: str
    album: str
    artist: str
    track: int | None = None
    tracks: int | None = None
    chapters: tuple = ()
    fingerprint: str = ""
    genre: str = ""
    description: str = ""
    cover: bytes = b""          # a PNG, shown by players as the album art
    cover_mime: str = "image/png"

    def to_dict(self) -> dict:
        """Plain data, for fingerprints and tests."""
        found: dict[str, object] = {"title": self.title, "album": self.album, "artist": self.artist, "track": self.track,
                 "tracks": self.tracks, "chapters": [[c.title, c.start, c.end] for c in self.chapters]}
        # Only when there, so that files written without them keep their fingerprints.
        if self.genre:
            found["genre"] = self.genre
        if self.description:
            found["description"] = self.description
        if self.cover:
            found["cover"] = [self.cover_mime, hashlib.sha256(self.cover).hexdigest()]
        return found


def chapters(timeline: Timeline, *, discreet: bool = False) -> tuple:
    """One chapter per section, from its start to the next section's (or the end)."""
    marks = timeline.sections
    return tuple(Chapter(f"Part {i + 1}" if discreet else mark.name, mark.start,
                         marks[i + 1].start if i + 1 < len(marks) else timeline.length)
                 for i, mark in enumerate(marks))


def ffmetadata(tags: Tags) -> str:
    """The chapters' times as an ffmpeg metadata file, for ffmpeg to write chapters while it muxes (see metadata_args)."""
    # Times only: no text goes through this file. ffmpeg 5.1's reader takes an escaped backslash at the
    # end of a value (`title=slow\\`) and the newline after it as a line continuation, however it is
    # escaped (measured with ffprobe -show_entries format_tags), so a title ending in `\` swallowed
    # the next line. metadata_args gives every text on ffmpeg's command line instead.
    lines = [";FFMETADATA1"]
    for c in tags.chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={c.start}", f"END={c.end}"]
    return "\n".join(lines) + "\n"


def metadata_args(tags: Tags, *, tags_too: bool = False) -> list[str]:
    """ffmpeg arguments that set each chapter's title (and, if `tags_too`, the tags), byte for byte as given."""
    # An argument reaches ffmpeg as it is: no escaping, so `\`, `=`, `;`, `#` and newlines arrive intact.
    # Only NUL cannot pass (a C string ends there), and no tag could hold it anyway.
    def arg(key: str, value) -> str:
        return f"{key}={str(value).replace(chr(0), '')}"
    args: list[str] = []
    if tags_too:
        fields = {"title": tags.title, "album": tags.album, "artist": tags.artist,
                  "track": f"{tags.track}/{tags.tracks}" if tags.track and tags.tracks else tags.track,
                  FINGERPRINT: tags.fingerprint}
        for key, value in fields.items():
            if value:
                args += ["-metadata", arg(key, value)]
    for i, c in enumerate(tags.chapters):
        args += [f"-metadata:c:{i}", arg("title", c.title)]
    return args


def _shown_frames(tags: Tags) -> list:
    """The ID3 frames of what a player shows beside the title: genre, description, cover."""
    from mutagen.id3 import APIC, COMM, TCON, Frame, PictureType
    frames: list[Frame] = []
    if tags.genre:
        frames.append(TCON(encoding=3, text=tags.genre))
    if tags.description:
        # COMM with an empty description is the comment Android's media store and most players show.
        frames.append(COMM(encoding=3, lang="eng", desc="", text=tags.description))
    if tags.cover:
        frames.append(APIC(encoding=3, mime=tags.cover_mime, type=PictureType.COVER_FRONT, desc="", data=tags.cover))
    return frames


def id3_extra(tag: bytes, tags: Tags) -> bytes:
    """The ID3v2.3 `tag` ffmpeg wrote, with the genre, description and cover frames of `tags` added."""
    # ffmpeg writes `comment` as TXXX:comment, which phones do not show, and mutagen rewriting the whole tag
    # would reorder the CHAP frames by size; so mutagen renders only these frames, put right after the header
    # (before any padding, which ends a reader's walk through the frames).
    frames = _shown_frames(tags)
    if not frames:
        return tag
    from mutagen.id3 import ID3
    extra = ID3()
    for frame in frames:
        extra.add(frame)
    out = io.BytesIO()
    extra.save(out, v2_version=3, v23_sep="/", padding=lambda info: 0)
    rendered = out.getvalue()
    if tag[:4] != b"ID3\x03" or rendered[:4] != b"ID3\x03" or tag[5] & 0xC0 or rendered[5] & 0xC0:
        raise VoicecoachError("an ID3 tag that cannot take the cover and description (not plain ID3v2.3)")
    body, added = tag[10:], rendered[10:]
    size = len(body) + len(added)
    synchsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return tag[:6] + synchsafe + added + body


def _id3_frames(tags: Tags, *, with_chapters: bool = True) -> list:
    from mutagen.id3 import CHAP, CTOC, TALB, TIT2, TPE1, TRCK, TXXX, CTOCFlags, Frame
    frames: list[Frame] = [TIT2(encoding=3, text=tags.title), TALB(encoding=3, text=tags.album),
              TPE1(encoding=3, text=tags.artist)]
    if tags.track:
        frames.append(TRCK(encoding=3, text=f"{tags.track}/{tags.tracks}" if tags.tracks else str(tags.track)))
    if tags.fingerprint:
        frames.append(TXXX(encoding=3, desc=FINGERPRINT, text=tags.fingerprint))
    frames += _shown_frames(tags)
    if tags.chapters and with_chapters:
        ids = [f"chp{i}" for i in range(len(tags.chapters))]
        frames.append(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                           child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=tags.album)]))
        frames += [CHAP(element_id=i, start_time=c.start, end_time=c.end, start_offset=NO_OFFSET,
                        end_offset=NO_OFFSET, sub_frames=[TIT2(encoding=3, text=c.title)])
                   for i, c in zip(ids, tags.chapters)]
    return frames



def write_tags(path: Path, fmt: str, tags: Tags) -> None:
    """Replace whatever tags `path` has (ffmpeg's encoder note included) with `tags`."""
    filename = str(path)
    if fmt in ("mp3", "wav"):
        from mutagen.id3 import ID3
        wav = None
        if fmt == "mp3":
            from mutagen.id3 import ID3NoHeaderError
            try:
                id3 = ID3(filename)
            except ID3NoHeaderError:
                id3 = ID3()
        else:
            from mutagen.wave import WAVE
            wav = WAVE(filename)
            if wav.tags is None:
                wav.add_tags()
            # mutagen declares FileType.tags as None; a WAVE's, once added, are ID3 (_WaveID3).
            id3 = cast(ID3, wav.tags)
        id3.clear()
        # WAV is for editing, not phones: no chapters there (mutagen would store them out of order).
        for frame in _id3_frames(tags, with_chapters=fmt == "mp3"):
            id3.add(frame)
        # ID3v2.3: the version every phone and car stereo reads; CHAP/CTOC are defined for it too.
        if wav is None:
            id3.save(filename, v2_version=3)
        else:
            wav.save(v2_version=3)
    elif fmt == "m4a":
        from mutagen.mp4 import MP4, MP4Tags
        f = MP4(filename)
        if f.tags is None:
            f.add_tags()
        atoms = cast(MP4Tags, f.tags)   # declared None in mutagen; MP4Tags once loaded or added
        atoms.clear()
        atoms.update({"\xa9nam": [tags.title], "\xa9alb": [tags.album], "\xa9ART": [tags.artist]})
        if tags.track:
            atoms["trkn"] = [(tags.track, tags.tracks or 0)]
        if tags.fingerprint:
            atoms[MP4_FINGERPRINT] = [tags.fingerprint.encode()]
        if tags.genre:
            atoms["\xa9gen"] = [tags.genre]
        if tags.description:
            # ©cmt is the comment music players show; desc the description podcast and TV apps show.
            atoms["\xa9cmt"] = [tags.description]
            atoms["desc"] = [tags.description]
        if tags.cover:
            from mutagen.mp4 import MP4Cover
            kind = MP4Cover.FORMAT_PNG if tags.cover_mime == "image/png" else MP4Cover.FORMAT_JPEG
            atoms["covr"] = [MP4Cover(tags.cover, imageformat=kind)]
        f.save()
    elif fmt == "opus":
        from mutagen.oggopus import OggOpus, OggOpusVComment
        opus = OggOpus(filename)
        vorbis = cast(OggOpusVComment, opus.tags)   # declared None in mutagen; an Opus file always has them
        vorbis.clear()
        comments = {"TITLE": tags.title, "ALBUM": tags.album, "ARTIST": tags.artist}
        if tags.track:
            comments["TRACKNUMBER"] = str(tags.track)
            if tags.tracks:
                comments["TRACKTOTAL"] = str(tags.tracks)
        if tags.fingerprint:
            comments[FINGERPRINT.upper()] = tags.fingerprint
        if tags.genre:
            comments["GENRE"] = tags.genre
        if tags.description:
            comments["DESCRIPTION"] = tags.description
        if tags.cover:
            # The picture as Xiph's players and ffmpeg read it: a FLAC picture block, base64, in the comments.
            from mutagen.flac import Picture
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, tags.cover_mime, tags.cover    # 3: front cover
            picture.width = picture.height = _png_side(tags.cover)
            picture.depth = 24
            comments["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture.write()).decode("ascii")
        # The Vorbis chapter convention, numbered from 000 as ffmpeg writes and reads it.
        for i, c in enumerate(tags.chapters):
            comments[f"CHAPTER{i:03d}"] = timestamp(c.start)
            comments[f"CHAPTER{i:03d}NAME"] = c.title
        for key, value in comments.items():
            vorbis[key] = [value]
        opus.save()
    else:
        raise VoicecoachError(f"{path}: cannot tag a {fmt} file")


def _png_side(data: bytes) -> int:
    # A PNG's width, from its IHDR chunk (0 for anything else: the block then says "unknown").
    return int.from_bytes(data[16:20], "big") if data[:8] == b"\x89PNG\r\n\x1a\n" else 0


def read_fingerprint(path: Path) -> str | None:
    """The fingerprint an earlier export stored in `path`, or None (missing, foreign or unreadable)."""
    import mutagen
    try:
        f = mutagen.File(str(path))
    except Exception:   # a damaged or foreign file simply gets exported again
        return None
    tags = getattr(f, "tags", None)
    if tags is None:
        return None
    try:
        if hasattr(tags, "getall"):                       # ID3 (MP3, WAV)
            found = [t for t in tags.getall("TXXX") if t.desc == FINGERPRINT]
            return str(found[0].text[0]) if found else None
        if MP4_FINGERPRINT in tags:
            return bytes(tags[MP4_FINGERPRINT][0]).decode()
        value = tags.get(FINGERPRINT)
        return value[0] if value else None
    except Exception:
        return None
