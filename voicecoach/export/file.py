"""Export: sessions to phone-ready files (MP3, M4A, Opus, WAV) at a steady loudness, with tags,
chapters and a transcript; whole programs to a numbered folder with a playlist. Atomic, and
skipped when nothing changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from voicecoach.audio import loudness
from voicecoach.audio.tags import Tags, chapters, read_fingerprint
from voicecoach.audio.wav import write_wav
from voicecoach.cache import Cache
from voicecoach.discreet import NEUTRAL, session_title
from voicecoach.errors import VoicecoachError
from voicecoach.exercise.transcript import webvtt
from voicecoach.export import mastering
from voicecoach.export.codec import codec_trim, trimmed
from voicecoach.export.encode import encode
from voicecoach.export.formats import ARTIST, ENCODERS, check_target
from voicecoach.export.mastering import master
from voicecoach.files import atomic_path, write_text, written
from voicecoach.handsfree import PRE_ROLL_S, prepare_hands_free
from voicecoach.session import Session, prepare
from voicecoach.units import RATE

EXPORT_VERSION = 2            # part of every fingerprint: bump when the same input should sound different


def fingerprint(session: Session, fmt: str, tags: Tags) -> str:
    """A digest of everything that decides the exported file's bytes: audio, timing, format, tags."""
    digest = hashlib.sha256()
    settings = {"version": EXPORT_VERSION, "format": fmt, "encoder": ENCODERS[fmt], "rate": RATE,
                "loudness": [loudness.TARGET_LUFS, loudness.MAX_TRUE_PEAK, loudness.CEILING, mastering.VERSION,
                             mastering.MAX_PCM_PEAK],
                "voice": session.voice.identity(), "timeline": session.timeline.to_dict(), "tags": tags.to_dict(),
                # Only with a bed, so that the files exported without one keep their fingerprints.
                **({"background": session.background.identity()} if session.background is not None else {})}
    digest.update(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode())
    for text in sorted(session.clips):
        digest.update(text.encode() + b"\0" + np.ascontiguousarray(session.clips[text], dtype="<i2").tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Exported:
    path: Path
    session: Session
    skipped: bool = False                      # the file was already up to date: no work done
    loudness: loudness.Loudness | None = None  # of the mastered session, computed (the file is not decoded again)
    transcript: Path | None = None
    transcript_written: bool = False


def session_tags(session: Session, *, discreet: bool, title: str | None = None, album: str | None = None,
                 track: int | None = None, tracks: int | None = None) -> Tags:
    """What a phone shows for a session; when discreet, only neutral words."""
    if discreet:
        return Tags(title=session_title(track), album=NEUTRAL, artist=NEUTRAL,
                    track=track, tracks=tracks, chapters=chapters(session.timeline, discreet=True))
    name = title or session.script.title
    return Tags(title=name, album=album or name, artist=ARTIST, track=track, tracks=tracks,
                chapters=chapters(session.timeline))


def export_session(session: Session, out: Path, tags: Tags, *, cache: Cache | None = None, transcript: bool = True,
                   force: bool = False, progress: Callable[[int], None] | None = None) -> Exported:
    """Write `session` to `out` (format by extension), unless an identical export is already there."""
    out = Path(out)
    fmt = check_target(out)
    tags = replace(tags, fingerprint=fingerprint(session, fmt, tags))
    skipped = not force and out.is_file() and read_fingerprint(out) == tags.fingerprint
    measured = None
    if not skipped:
        # Mastering writes too (temporary files, the cache): a full disk there is reported for `out` as well.
        with written(out):
            mastered = master(session, cache)
            trim = codec_trim(mastered, fmt, cache)
            with atomic_path(out) as tmp:
                encode(trimmed(mastered.session, trim), tmp, fmt, tags, progress)
        measured = mastered.loudness
    vtt, vtt_written = None, False
    if transcript:
        vtt = out.with_suffix(".vtt")
        vtt_written = write_text(vtt, webvtt(session.timeline))
    return Exported(out, session, skipped, measured, vtt, vtt_written)


def _drop_transcript(vtt: Path) -> None:
    # A transcript an earlier, open export left beside the file would say what a discreet one hides.
    try:
        with open(vtt, encoding="utf-8") as f:
            ours = f.read(16).startswith("WEBVTT")
    except (OSError, UnicodeDecodeError):
        return
    if ours:
        vtt.unlink(missing_ok=True)


def _share(progress: Callable[[float, str], None], label: str, before: int, share: int, total: int):
    """An ms-counting callback for one file that reports the fraction of the whole job done,
    never running past this file's share (a re-encode does not push the bar beyond it)."""
    worked = 0

    def step(ms: int):
        nonlocal worked
        worked = min(share, worked + ms)
        progress((before + worked) / total, label)
    return step


def prepare_for_file(script: str | Path, cache: Cache, *, hands_free: bool = False, pre_roll: int = PRE_ROLL_S,
                     **options) -> Session:
    """The session as a file holds it: words that ask for no key, its tones; hands-free: pre-roll, earcons, slower voice."""
    if hands_free:
        return prepare_hands_free(script, cache, pre_roll_s=pre_roll, **options)
    return prepare(script, cache, for_file=True, **options)


RENDERING = 0.5      # the part of a job's progress bar that rendering takes, when there is any


def rendering(progress: Callable[..., None] | None, label: str, lo: float = 0.0, hi: float = RENDERING):
    """A gather() progress callback that moves the bar from `lo` to `hi` as phrases are rendered."""
    if progress is None:
        return None

    def step(done: int, total: int) -> None:
        if total:
            progress(lo + (hi - lo) * done / total, f"{label}: rendering phrase {min(done + 1, total)} of {total}",
                     RENDERING)
    return step


def export_script(script: str | Path, out: str | Path, cache: Cache, *, discreet: bool = False,
                  transcript: bool | None = None, force: bool = False, hands_free: bool = False,
                  pre_roll: int = PRE_ROLL_S, progress: Callable[..., None] | None = None,
                  **options) -> Exported:
    """Render `script` (with --set overrides and voice options) for a file, and write it to `out`."""
    out = Path(out)
    check_target(out)
    label = f"Exporting {out.name}"
    session = prepare_for_file(script, cache, hands_free=hands_free, pre_roll=pre_roll,
                               progress=rendering(progress, label), **options)
    share = max(1, session.timeline.length)
    if discreet and not transcript:
        _drop_transcript(out.with_suffix(".vtt"))
    # Encoding fills the rest of the bar: all of it when nothing needed rendering.
    before = round(share * RENDERING / (1 - RENDERING)) if session.synthesised else 0
    done = export_session(session, out, session_tags(session, discreet=discreet), cache=cache,
                          transcript=(not discreet) if transcript is None else transcript, force=force,
                          progress=_share(progress, label, before, share, before + share) if progress else None)
    if progress:
        progress(1.0, f"Exporting {out.name}")
    return done


def render_script(script: str | Path, out: str | Path, cache: Cache, **options) -> Session:
    """Write the session exactly as `play` plays it (the voice as rendered, no loudness change) to a WAV."""
    out = Path(out)
    if check_target(out) != "wav":
        raise VoicecoachError(f"{out}: render writes the session's own samples as .wav; "
                              "use `voicecoach export` for a file for a phone")
    session = prepare(script, cache, **options)
    with written(out), atomic_path(out) as tmp:
        write_wav(tmp, session.blocks())
    return session


