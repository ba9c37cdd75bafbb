"""Encoding: a mastered session into its file in one pass, WAV directly, other formats through ffmpeg."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from voicecoach.audio import ffmpeg
from voicecoach.audio.tags import Tags, ffmetadata, id3_extra, metadata_args, write_tags
from voicecoach.audio.wav import write_wav
from voicecoach.errors import VoicecoachError
from voicecoach.export.formats import ENCODERS, container_args
from voicecoach.session import Session
from voicecoach.units import SAMPLES_PER_MS

BLOCK_MS = 20_000             # how much audio is in memory at once while streaming to ffmpeg


def _metadata_input(tmp: Path, tags: Tags, fmt: str) -> tuple[Path, list[str]]:
    meta_file = tmp.with_name(tmp.name + ".tags")
    # The file gives the chapters' times; every text goes on the command line (see tags.ffmetadata).
    meta_file.write_text(ffmetadata(tags), encoding="utf-8")
    return meta_file, ["-f", "ffmetadata", "-i", str(meta_file), "-map", "0:a", "-map_metadata", "1",
                       "-map_chapters", "1", *metadata_args(tags, tags_too=fmt == "mp3")]


def id3_tag(tmp: Path, tags: Tags) -> bytes:
    """The ID3v2.3 tag (title, chapters ...) ffmpeg writes at the head of an MP3 of this session."""
    # ffmpeg writes CHAP frames in chapter order; mutagen would order them by size, and readers such as
    # ffprobe take them in file order. A run with no audio gives the tag alone.
    meta_file, meta = _metadata_input(tmp, tags, "mp3")
    head = tmp.with_name(tmp.name + ".head")
    try:
        ffmpeg.run(ffmpeg.PCM_INPUT + meta + ENCODERS["mp3"] + [str(head)], feed=[])
        data = head.read_bytes()
    finally:
        meta_file.unlink(missing_ok=True)
        head.unlink(missing_ok=True)
    if data[:3] != b"ID3":
        raise VoicecoachError("ffmpeg wrote no ID3 tag for the MP3")
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]    # synchsafe
    return data[: 10 + size]


def _append(src, out) -> None:
    """Copy the rest of file `src` to the end of file `out`, in the kernel where it can."""
    try:
        while os.copy_file_range(src.fileno(), out.fileno(), 1 << 24):
            pass
    except (AttributeError, OSError):     # no copy_file_range here (or across these file systems)
        shutil.copyfileobj(src, out, 1 << 20)


def encode(session: Session, tmp: Path, fmt: str, tags: Tags, progress: Callable[[int], None] | None = None) -> None:
    """Write the (mastered) `session` into `tmp` in one pass: WAV directly, other formats through ffmpeg's encoder."""
    def ms(samples):
        if progress:
            progress(samples // SAMPLES_PER_MS)
    if fmt == "wav":
        write_wav(tmp, session.blocks(BLOCK_MS), ms)
        write_tags(tmp, fmt, tags)
        return
    source, head = ffmpeg.stream_input(session.timeline.length * SAMPLES_PER_MS)
    if fmt == "mp3":
        # A second ffmpeg input (the metadata file) makes ffmpeg 5 pass every packet between threads,
        # which cost 18 % of a 30-minute encode; so the audio is encoded alone and the tag put before it.
        # The result is byte for byte what the single run would write.
        audio = tmp.with_name(tmp.name + ".audio")
        try:
            with ThreadPoolExecutor(1) as pool:    # the tag is made while the audio is encoded
                pending = pool.submit(id3_tag, tmp, tags)
                ffmpeg.run(source + ENCODERS["mp3"] + ["-id3v2_version", "0", str(audio)],
                           feed=session.blocks(BLOCK_MS), progress=ms, head=head)
                tag = id3_extra(pending.result(), tags)
            with open(tmp, "wb") as out, open(audio, "rb") as src:
                out.write(tag)
                out.flush()
                _append(src, out)
        finally:
            audio.unlink(missing_ok=True)
        return
    meta_file, meta = _metadata_input(tmp, tags, fmt) if fmt == "m4a" and tags.chapters else (None, [])
    # ffmpeg writes MP4 chapters (a chapter track and Nero chpl), which mutagen cannot.
    try:
        # The fingerprint digests everything that decides the audio, so it seeds the container's serial.
        fixed = container_args(fmt, (tags.fingerprint or repr(tags.to_dict())).encode())
        ffmpeg.run(source + meta + ENCODERS[fmt] + fixed + [str(tmp)], feed=session.blocks(BLOCK_MS),
                   progress=ms, head=head)
    finally:
        if meta_file:
            meta_file.unlink(missing_ok=True)
    write_tags(tmp, fmt, tags)
