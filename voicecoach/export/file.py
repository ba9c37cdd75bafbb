"""Export: sessions to phone-ready files (MP3, M4A, Opus, WAV) at a steady loudness, with tags,
chapters and a transcript; whole programs to a numbered folder with a playlist. Atomic, and
skipped when nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
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
from voicecoach.export.cover import cover_png
from voicecoach.export.encode import encode
from voicecoach.export.formats import ARTIST, ENCODERS, check_target
from voicecoach.export.mastering import master
from voicecoach.files import atomic_path, in_the_way, write_text, written
from voicecoach.handsfree import PRE_ROLL_S, prepare_hands_free
from voicecoach.session import Session, prepare
from voicecoach.units import RATE, minutes
from voicecoach.units import spoken as spoken_length

EXPORT_VERSION = 2            # part of every fingerprint: bump when the same input should sound different


def fingerprint(session: Session, fmt: str, tags: Tags) -> str:
    """A digest of everything that decides the exported file's bytes: audio, timing, format, tags."""
    digest = hashlib.sha256()
    settings = {"version": EXPORT_VERSION, "format": fmt, "encoder": ENCODERS[fmt], "rate": RATE,
                "loudness": [loudness.TARGET_LUFS, loudness.MAX_TRUE_PEAK, loudness.CEILING, mastering.VERSION,
                             mastering.MAX_PCM_PEAK],
                "voice": session.voice.identity(), "timeline": session.timeline.to_dict(), "tags": tags.to_dict(),
                # Only with a bed, so that the files exported without one keep their fingerprints.
                **({"background": session.background.identity()} if session.background is not None else {}),
                # Texts with a backslash went through ffmpeg's metadata file, which could cut them short;
                # they now reach it whole, so those files (and only those) are written again.
                **({"texts": "whole"} if any("\\" in text for text in _texts(tags)) else {})}
    digest.update(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode())
    for text in sorted(session.clips):
        digest.update(text.encode() + b"\0" + np.ascontiguousarray(session.clips[text], dtype="<i2").tobytes())
    return digest.hexdigest()


def _texts(tags: Tags) -> list[str]:
    return [tags.title, tags.album, tags.artist, tags.genre, tags.description, *(c.title for c in tags.chapters)]


@dataclass(frozen=True)
class Exported:
    path: Path
    session: Session
    skipped: bool = False                      # the file was already up to date: no work done
    loudness: loudness.Loudness | None = None  # of the mastered session, computed (the file is not decoded again)
    transcript: Path | None = None
    transcript_written: bool = False
    bed_lowered: float = 0.0                   # dB the bed was brought under its asked level to keep the limits

    def notes(self) -> list[str]:
        """What the export did on the user's behalf, or could not do, one sentence each (nothing when it did
        only what was asked)."""
        said = []
        if self.bed_lowered and self.session.background is not None:
            said.append(self.session.background.lowered_text(self.bed_lowered))
        quieter = quiet_note(self.session, self.loudness)
        if quieter:
            said.append(f"{self.path.name} {quieter}")
        return said


def quiet_note(session: Session, measured: loudness.Loudness | None) -> str | None:
    """Why a file is quieter than the loudness target allows (None when it is within it)."""
    if measured is None or measured.integrated >= loudness.TARGET_LUFS - loudness.TOLERANCE:
        return None
    timeline = session.timeline
    spoken = sum(c.length for c in timeline.cues if c.kind == "speech")
    under = "its tones and background stay" if session.background is not None else "its tones stay"
    # The voice is brought up to the target, but only as far as its limiter lets it: where it is a small part
    # of a long session, the quiet between its words counts too, and what sounds there keeps its own level.
    return (f"is at {measured.integrated:.1f} LUFS, under the {loudness.TARGET_LUFS:g} LUFS a phone expects: its voice "
            f"speaks for {spoken_length(round(spoken, -2))} of {minutes(timeline.length)}, and {under} at their levels under "
            "the voice. More speech or shorter pauses bring it up.")


GENRE = "Health & Fitness"     # the podcast directories' category for guided exercise
NEUTRAL_ABOUT = "An audio session, one of a series to play in order."   # a discreet file's description
# A sentence of a script's `about` that speaks to someone at the keyboard ("Choose the size with --set size.",
# "`voicecoach show` lists them"): a phone shows it with no command line in sight.
_FOR_THE_KEYBOARD = re.compile(r"(?<![\w-])--[a-z]|`")


def for_listeners(about: str) -> str:
    """`about` on one line, without its sentences that name a command-line option or quote a command."""
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(about.split()))
    return " ".join(s for s in sentences if s and not _FOR_THE_KEYBOARD.search(s))


def session_tags(session: Session, *, discreet: bool, title: str | None = None, album: str | None = None,
                 track: int | None = None, tracks: int | None = None) -> Tags:
    """What a phone shows for a session (title, album, track n of total, genre, description, cover, chapters);
    when discreet, only neutral words and a neutral cover."""
    if discreet:
        return Tags(title=session_title(track), album=NEUTRAL, artist=NEUTRAL,
                    track=track, tracks=tracks, chapters=chapters(session.timeline, discreet=True),
                    genre=NEUTRAL, description=NEUTRAL_ABOUT, cover=cover_png(discreet=True))
    name = title or session.script.title
    return Tags(title=name, album=album or name, artist=ARTIST, track=track, tracks=tracks,
                chapters=chapters(session.timeline), genre=GENRE,
                description=for_listeners(session.script.about), cover=cover_png(discreet=False))


def export_session(session: Session, out: Path, tags: Tags, *, cache: Cache | None = None, transcript: bool = True,
                   force: bool = False, progress: Callable[[int], None] | None = None,
                   claim: Callable[[Path, Path], None] | None = None,
                   head: mastering.HeadStart | None = None) -> Exported:
    """Write `session` to `out` (format by extension), unless an identical export is already there.

    `claim(final, tmp)` sees each finished file just before it is renamed into place; `head`: the mastering
    begun while its phrases rendered (see mastering.HeadStart)."""
    out = Path(out)
    fmt = check_target(out)
    tags = replace(tags, fingerprint=fingerprint(session, fmt, tags))
    skipped = not force and out.is_file() and read_fingerprint(out) == tags.fingerprint
    measured, lowered = None, 0.0
    if not skipped:
        # Mastering writes too (temporary files, the cache): a full disk there is reported for `out` as well.
        with written(out):
            mastered = master(session, cache, head)
            trim = codec_trim(mastered, fmt, cache)
            with atomic_path(out, before_replace=_claimed(claim, out)) as tmp:
                encode(trimmed(mastered.session, trim), tmp, fmt, tags, progress)
        measured, lowered = mastered.loudness, mastered.bed_lowered
    vtt, vtt_written = None, False
    if transcript:
        vtt = out.with_suffix(".vtt")
        vtt_written = write_text(vtt, transcript_text(session.timeline), before_replace=_claimed(claim, vtt))
    return Exported(out, session, skipped, measured, vtt, vtt_written, lowered)


def _claimed(claim: Callable[[Path, Path], None] | None, path: Path) -> Callable[[Path], None] | None:
    return None if claim is None else lambda tmp: claim(path, tmp)


# Our transcripts say so on their first line, with a digest of the rest: a .vtt beside an export that
# lacks it (the user's own subtitles, or ours edited since) is not ours to replace or remove. WebVTT
# allows any text after "WEBVTT " on that line; players ignore it.
TRANSCRIPT_HEADER = "WEBVTT - voicecoach transcript "
_HEADER = re.compile(re.escape(TRANSCRIPT_HEADER) + r"([0-9a-f]{16})")
TRANSCRIPT_LIMIT = 64 << 20        # far more than the words of a day-long session


def transcript_text(timeline) -> str:
    """The session's words as WebVTT, marked as ours (see is_our_transcript)."""
    body = webvtt(timeline)[len("WEBVTT"):]
    return TRANSCRIPT_HEADER + hashlib.sha256(body.encode()).hexdigest()[:16] + body


def is_our_transcript(path: Path) -> bool:
    """Whether `path` is a transcript this tool wrote, unchanged since."""
    try:
        if not Path(path).is_file() or os.path.getsize(path) > TRANSCRIPT_LIMIT:
            return False
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    header, newline, _ = text.partition("\n")
    found = _HEADER.fullmatch(header)
    body = text[len(header):]
    return bool(found and newline and hashlib.sha256(body.encode()).hexdigest()[:16] == found.group(1))


def _older_transcript(path: Path, timeline) -> bool:
    # What earlier versions wrote, unmarked: ours when it is exactly their text for this very session.
    try:
        return timeline is not None and Path(path).is_file() and os.path.getsize(path) <= TRANSCRIPT_LIMIT \
            and Path(path).read_text(encoding="utf-8") == webvtt(timeline)
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def check_transcript(vtt: Path, *, write: bool, force: bool, timeline=None) -> None:
    """Fail when the transcript beside an export cannot or may not be written (or, when not written, a
    foreign one beside a discreet file would tell what it hides). Called before rendering, and again
    with the rendered `timeline` for an unmarked transcript an earlier version may have written."""
    problem = in_the_way(vtt)
    if write and problem:
        raise VoicecoachError(f"{vtt}: {problem} of the transcript; move it, or add --no-transcript")
    if problem or force or not Path(vtt).exists() or is_our_transcript(vtt) or _older_transcript(vtt, timeline):
        return
    try:
        with open(vtt, encoding="utf-8", errors="replace") as f:
            looks_like_one = f.read(6) == "WEBVTT"
    except OSError:
        looks_like_one = False
    if looks_like_one and timeline is None:
        return          # decided once the session is rendered: it may be an earlier version's, of this session
    if write:
        raise VoicecoachError(f"{vtt}: a file voicecoach did not write is where the transcript goes; move it, "
                              "or add --no-transcript (or --force to replace it)")
    if looks_like_one:
        raise VoicecoachError(f"{vtt}: a transcript voicecoach did not write is beside this discreet file and "
                              "may say what it hides; move or delete it, or add --force to leave it there")


def _drop_transcript(vtt: Path, timeline) -> None:
    # A transcript an earlier, open export left beside the file would say what a discreet one hides;
    # only ours goes (check_transcript stopped at any other that looks like one, unless --force).
    if is_our_transcript(vtt) or _older_transcript(vtt, timeline):
        vtt.unlink(missing_ok=True)


def bed_file(session: Session) -> str | None:
    """The user's sound file a session's bed was made from (None for a built-in bed, or none)."""
    if session.background is None:
        return None
    found = session.background.source.identity().get("file")
    return str(found) if found else None


def refuse_the_bed(background: str | Path | None, targets) -> None:
    """Stop when a file to be written is the background sound the export reads (by any name or link)."""
    # Checked with the command line's name before rendering, and with the file the session's bed came
    # from (the script's own `background:` too) before encoding: the export would replace the user's sound.
    if not background:
        return
    bed = Path(background).expanduser()
    for target in targets:
        try:
            same = os.path.samefile(bed, target)
        except (OSError, ValueError):
            continue
        if same:
            raise VoicecoachError(f"{target}: is the background sound this export reads ({background}); "
                                  "write to another file")


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
                     on_rendered: Callable | None = None, **options) -> Session:
    """The session as a file holds it: words that ask for no key, its tones; hands-free: pre-roll, earcons, slower voice.

    `on_rendered`: see session.gather (hands-free evens each phrase out after gathering it, so it is not called)."""
    if hands_free:
        return prepare_hands_free(script, cache, pre_roll_s=pre_roll, **options)
    return prepare(script, cache, for_file=True, on_rendered=on_rendered, **options)


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
    vtt, with_transcript = out.with_suffix(".vtt"), (not discreet) if transcript is None else transcript
    # Before any rendering: the files beside `out` that the user did not name, and the bed it reads.
    if with_transcript or discreet:
        check_transcript(vtt, write=with_transcript, force=force)
    refuse_the_bed(options.get("background"), [out, vtt] if with_transcript else [out])
    label = f"Exporting {out.name}"
    with mastering.HeadStart() as head:
        session = prepare_for_file(script, cache, hands_free=hands_free, pre_roll=pre_roll,
                                   progress=rendering(progress, label), on_rendered=head.add, **options)
        share = max(1, session.timeline.length)
        refuse_the_bed(bed_file(session), [out, vtt] if with_transcript else [out])
        if with_transcript or discreet:
            check_transcript(vtt, write=with_transcript, force=force, timeline=session.timeline)
        if discreet and not with_transcript:
            _drop_transcript(vtt, session.timeline)
        # Encoding fills the rest of the bar: all of it when nothing needed rendering.
        before = round(share * RENDERING / (1 - RENDERING)) if session.synthesised else 0
        done = export_session(session, out, session_tags(session, discreet=discreet), cache=cache,
                              transcript=with_transcript, force=force,
                              progress=_share(progress, label, before, share, before + share) if progress else None,
                              head=head)
    if progress:
        progress(1.0, f"Exporting {out.name}")
    return done


def render_script(script: str | Path, out: str | Path, cache: Cache, *, hands_free: bool = False,
                  pre_roll: int = PRE_ROLL_S, keep_alive: bool | None = None, **options) -> Session:
    """Write the session exactly as `play` plays it (the voice as rendered, no loudness change) to a WAV:
    hands-free as `play --hands-free` plays it (the only way `play` fills long silences: `keep_alive`)."""
    out = Path(out)
    if check_target(out) != "wav":
        raise VoicecoachError(f"{out}: render writes the session's own samples as .wav; "
                              "use `voicecoach export` for a file for a phone")
    refuse_the_bed(options.get("background"), [out])
    if hands_free:
        session = prepare_hands_free(script, cache, pre_roll_s=pre_roll, keep_alive=keep_alive, **options)
    else:
        session = prepare(script, cache, **options)
    refuse_the_bed(bed_file(session), [out])
    with written(out), atomic_path(out) as tmp:
        write_wav(tmp, session.blocks())
    return session


