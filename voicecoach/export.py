"""Export: sessions to phone-ready files (MP3, M4A, Opus, WAV) at a steady loudness, with tags,
chapters and a transcript; whole programs to a numbered folder with a playlist. Atomic, and
skipped when nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from . import ffmpeg, loudness, mastering
from .cache import Cache
from .mastering import master
from .mix import sounds
from .errors import VoicecoachError
from .session import Session, prepare
from .speech import RATE, SAMPLES_PER_MS
from .tags import Tags, chapters, ffmetadata, read_fingerprint, write_tags
from .transcript import webvtt

FORMATS = {".wav": "wav", ".mp3": "mp3", ".m4a": "m4a", ".opus": "opus"}
MP3_BITRATE = "64k"   # mono speech at 24 kHz: transparent enough, small for a phone
# Per format: the encoder and container. Speech in mono at our 24 kHz, which all four take natively.
ENCODERS = {
    "wav": ["-c:a", "pcm_s16le", "-f", "wav"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", MP3_BITRATE, "-id3v2_version", "3", "-write_id3v1", "0", "-f", "mp3"],
    # "ipod" is the MP4 muxer flavour for .m4a that Apple and Android players expect.
    # aac_coder fast: the default (twoloop) now and then leaves a spike of several dB in a frame.
    "m4a": ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "64k", "-movflags", "+faststart", "-f", "ipod"],
    # compression_level 5: a third of the default's time, no audible loss for speech.
    "opus": ["-c:a", "libopus", "-b:a", "32k", "-compression_level", "5", "-f", "opus"],
}
EXPORT_VERSION = 2            # part of every fingerprint: bump when the same input should sound different
BLOCK_MS = 20_000             # how much audio is in memory at once while streaming to ffmpeg
ARTIST = "voicecoach"
NEUTRAL = "Relaxation"        # what discreet files say about themselves


def audio_format(path: Path) -> str:
    """The format an output path asks for by its extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise VoicecoachError(f"{path}: unknown audio format {Path(path).suffix or '(no extension)'}; "
                              f"use one of {', '.join(FORMATS)}")
    return fmt


def check_target(path: Path) -> str:
    """Fail early (before any rendering) when `path` cannot be written."""
    fmt = audio_format(path)
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    if Path(path).is_dir():
        raise VoicecoachError(f"{path}: is a folder; give a file name such as {Path(path) / 'session.mp3'}")
    if not parent.is_dir():
        raise VoicecoachError(f"{path}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise VoicecoachError(f"{path}: cannot write in {parent} (permission denied)")
    if fmt != "wav":
        try:
            ffmpeg.executable()
        except VoicecoachError:
            raise VoicecoachError(f"{fmt.upper()} export needs ffmpeg: install it (Debian/Ubuntu: sudo apt-get "
                                  "install ffmpeg), or export to .wav") from None
    return fmt


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def sweep_partials(path: Path) -> None:
    """Remove temporary files an earlier, killed export of `path` left beside it."""
    path = Path(path)
    try:
        # The temporary file and anything written beside it (the ffmpeg metadata file: ".partial.tags").
        leftovers = list(path.parent.glob(f".{glob_escape(path.name)}.*.partial*"))
    except OSError:
        return
    for tmp in leftovers:
        found = re.match(rf"\.{re.escape(path.name)}\.(\d+)\.", tmp.name)
        if found and not _alive(int(found.group(1))):
            try:
                tmp.unlink()
            except OSError:
                pass


def glob_escape(name: str) -> str:
    """`name` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextmanager
def atomic_path(path: Path, mode: int | None = None):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    With `mode` (0o600 for private data) the temporary file is created empty with that mode before
    anything is written to it; otherwise the writer creates it."""
    path = Path(path)
    sweep_partials(path)
    # The pid in the name lets a later export tell a dead export's leftovers from a running one's; 64
    # random bits keep two writers apart. The file is left for the writer to create (with the usual
    # mode): opening an existing file for writing truncates it, and ext4 then writes the whole file
    # to disk on close, 32 ms for a 30-minute WAV.
    tmp = (path.parent or Path(".")) / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.partial"
    if mode is not None:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _written(path: Path):
    """Context: turn OS and encoder failures while writing `path` into one clear line."""
    @contextmanager
    def guard():
        try:
            yield
        except OSError as e:
            raise VoicecoachError(f"{path}: could not be written ({e.strerror or e}); "
                                  "nothing was left behind") from None
        except VoicecoachError as e:
            if str(e).startswith(str(path)):
                raise
            raise VoicecoachError(f"{path}: {e}; nothing was left behind") from None
    return guard()


def write_text(path: Path, text: str) -> bool:
    """Write `text` to `path` atomically unless it already holds exactly that; True if written."""
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    with _written(path), atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return True


def write_wav(path: Path, blocks, progress: Callable[[int], None] | None = None) -> None:
    """Write int16 blocks at RATE to `path` as a mono 16-bit WAV."""
    # The file is opened first: wave.open on a path it cannot open leaves a half-made writer whose
    # finaliser raises later.
    with open(path, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for block in blocks:
            w.writeframesraw(np.ascontiguousarray(block, dtype="<i2"))
            if progress:
                progress(len(block))


def write_audio(samples: np.ndarray, path: Path, *, title: str | None = None) -> Path:
    """Write mono int16 samples at RATE to `path` as they are (no loudness change), atomically."""
    path = Path(path)
    fmt = check_target(path)
    data = np.asarray(samples, dtype="<i2")
    with _written(path), atomic_path(path) as tmp:
        if fmt == "wav":
            write_wav(tmp, [data])
        else:
            ffmpeg.run(ffmpeg.PCM_INPUT + ENCODERS[fmt] + [str(tmp)], feed=[data])
            if title:
                write_tags(tmp, fmt, Tags(title=title, album=title, artist=ARTIST))
    return path


def fingerprint(session: Session, fmt: str, tags: Tags) -> str:
    """A digest of everything that decides the exported file's bytes: audio, timing, format, tags."""
    digest = hashlib.sha256()
    settings = {"version": EXPORT_VERSION, "format": fmt, "encoder": ENCODERS[fmt], "rate": RATE,
                "loudness": [loudness.TARGET_LUFS, loudness.MAX_TRUE_PEAK, loudness.CEILING, mastering.VERSION,
                             mastering.MAX_PCM_PEAK],
                "voice": session.voice.identity(), "timeline": session.timeline.to_dict(), "tags": tags.to_dict()}
    digest.update(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode())
    for text in sorted(session.clips):
        digest.update(text.encode() + b"\0" + np.ascontiguousarray(session.clips[text], dtype="<i2").tobytes())
    return digest.hexdigest()


PEAK_MARGIN = 0.3             # dB kept under the true-peak limit after the codec
PROBE_GAP = RATE // 10        # silence between sounds when measuring a codec
PROBE_SAMPLES = 30 * RATE     # how much of a session's sounds measure a codec


@dataclass(frozen=True)
class Codec:
    gain: float         # dB the decoded file is louder than what the encoder was given (LAME CBR: about -0.5)
    overshoot: float    # dB the decoded file's true peak rose above the given sound's


def _encoder_identity(fmt: str) -> list:
    # A codec's behaviour is the encoder's: its settings and the ffmpeg it runs in (a new one is measured anew).
    found = Path(ffmpeg.executable()).resolve()
    stat = found.stat()
    return [ENCODERS[fmt], str(found), stat.st_size, stat.st_mtime_ns]


def measure_codec(fmt: str, samples: np.ndarray) -> Codec:
    """What encoding `samples` to `fmt` and decoding them again does to their loudness and true peak."""
    with tempfile.TemporaryDirectory() as folder:
        encoded = Path(folder) / f"probe.{fmt}"
        ffmpeg.run(ffmpeg.PCM_INPUT + ENCODERS[fmt] + [str(encoded)], feed=[samples])
        with open(Path(folder) / "decoded.raw", "w+b") as out:
            ffmpeg.run(["-i", str(encoded), "-f", "s16le", "-ar", str(RATE), "-ac", "1", "pipe:1"], stdout=out)
            out.seek(0)
            decoded = np.frombuffer(out.read(), dtype="<i2")
    given, heard = loudness.total_energy(samples), loudness.total_energy(decoded)
    gain = 10 * np.log10(heard / given) if given > 0 and heard > 0 else 0.0
    return Codec(float(gain), float(loudness.true_peak(decoded) - loudness.true_peak(samples)))


def codec(fmt: str, mastered: mastering.Mastered, cache: Cache | None) -> Codec:
    """The encoder's effect on loudness and peaks: measured on the first session exported with it, then kept."""
    key = hashlib.sha256(json.dumps(["codec", *_encoder_identity(fmt)]).encode()).hexdigest()
    note = cache.get_note(key) if cache is not None else None
    if note is not None:
        return Codec(float(note["gain"]), float(note["overshoot"]))
    # A short gap between sounds is enough here (a codec has no release to wait for), and so is half a
    # minute of them: the effect is the encoder's, not the sound's.
    found = measure_codec(fmt, mastering.batch(sounds(mastered.session.timeline, mastered.session.clips),
                                               gap=PROBE_GAP)[:PROBE_SAMPLES])
    if cache is not None:
        cache.put_note(key, {"gain": found.gain, "overshoot": found.overshoot})
    return found


def codec_trim(mastered: mastering.Mastered, fmt: str, cache: Cache | None) -> float:
    """dB to add before encoding to `fmt`, so that the decoded file keeps the mastered loudness and stays
    under the true-peak limit."""
    if fmt == "wav" or mastered.threshold is None:
        return 0.0
    # LAME at a constant bit rate, for one, plays 0.5 dB quieter than it was given, whatever the sound
    # (speech, sine or noise alike): a property of the encoder, so it is measured once and kept.
    effect = codec(fmt, mastered, cache)
    trim = -effect.gain
    peak = mastered.loudness.true_peak + trim + max(0.0, effect.overshoot)
    if peak > loudness.MAX_TRUE_PEAK - PEAK_MARGIN:
        trim -= peak - (loudness.MAX_TRUE_PEAK - PEAK_MARGIN)
    return float(round(trim, 3))


def trimmed(session: Session, trim: float) -> Session:
    """`session` with every sound `trim` dB louder (each distinct sound scaled once, not the session)."""
    if not trim:
        return session
    factor = 10 ** (trim / 20)
    louder = {key: np.clip(np.round(samples * factor), -32768, 32767).astype(np.int16)
              for key, samples in sounds(session.timeline, session.clips).items()}
    return replace(session, clips=louder)


def _metadata_input(tmp: Path, tags: Tags, fmt: str) -> tuple[Path, list[str]]:
    meta_file = tmp.with_name(tmp.name + ".tags")
    meta_file.write_text(ffmetadata(tags, tags_too=fmt == "mp3"), encoding="utf-8")
    return meta_file, ["-f", "ffmetadata", "-i", str(meta_file), "-map", "0:a", "-map_metadata", "1",
                       "-map_chapters", "1"]


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
                tag = pool.submit(id3_tag, tmp, tags)
                ffmpeg.run(source + ENCODERS["mp3"] + ["-id3v2_version", "0", str(audio)],
                           feed=session.blocks(BLOCK_MS), progress=ms, head=head)
                tag = tag.result()
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
        ffmpeg.run(source + meta + ENCODERS[fmt] + [str(tmp)], feed=session.blocks(BLOCK_MS),
                   progress=ms, head=head)
    finally:
        if meta_file:
            meta_file.unlink(missing_ok=True)
    write_tags(tmp, fmt, tags)


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
        return Tags(title=f"Session {track:02d}" if track else "Session", album=NEUTRAL, artist=NEUTRAL,
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
        with _written(out):
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


def export_script(script: str | Path, out: str | Path, cache: Cache, *, discreet: bool = False,
                  transcript: bool | None = None, force: bool = False,
                  progress: Callable[[float, str], None] | None = None, **options) -> Exported:
    """Render `script` (with --set overrides and voice options) and write it to `out`."""
    out = Path(out)
    check_target(out)
    session = prepare(script, cache, **options)
    share = max(1, session.timeline.length)
    if discreet and not transcript:
        _drop_transcript(out.with_suffix(".vtt"))
    done = export_session(session, out, session_tags(session, discreet=discreet), cache=cache,
                          transcript=(not discreet) if transcript is None else transcript, force=force,
                          progress=_share(progress, f"Exporting {out.name}", 0, share, share) if progress else None)
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
    with _written(out), atomic_path(out) as tmp:
        write_wav(tmp, session.blocks())
    return session


@dataclass(frozen=True)
class Stage:
    """One file of a program folder: what to play, and under which name."""
    title: str
    script: Path
    params: Mapping[str, object]
    guidance: str = ""      # how often, and when to move on: for the folder's README


@dataclass(frozen=True)
class ProgramExport:
    folder: Path
    title: str
    files: tuple            # Exported, in order
    playlist: Path
    readme: Path
    removed: tuple = ()     # files of an earlier export that the program no longer has

    @property
    def unchanged(self) -> bool:
        return all(f.skipped for f in self.files)

    @property
    def synthesised(self) -> int:
        return sum(f.session.synthesised for f in self.files)


def program_stages(path: Path, overrides: Mapping[str, object] | None = None) -> tuple[str, str, tuple]:
    """(title, about, stages) of a program file; a single script is a program of one stage."""
    from .document import Document
    from .program import is_program, program_from_document
    doc = Document.load(path)
    if is_program(doc):
        if overrides:
            raise VoicecoachError(f"{path}: --set applies to a script; each stage of a program sets its own")
        program = program_from_document(doc)
        return program.title, program.about, tuple(
            Stage(s.name, s.script, dict(s.set), f"{s.frequency[:1].upper()}{s.frequency[1:]}. "
                                                 f"Move on when: {s.move_on_when}") for s in program.stages)
    from .script import load_script
    script = load_script(path, overrides)
    return script.title, script.about or "", (Stage(script.title, Path(path), dict(overrides or {})),)


def _folder(folder: Path) -> Path:
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise VoicecoachError(f"{folder}: is a file; give a folder for the program")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VoicecoachError(f"{folder}: cannot make this folder ({e.strerror or e})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise VoicecoachError(f"{folder}: cannot write in this folder (permission denied)")
    return folder


def export_program(path: str | Path, folder: str | Path, cache: Cache, *, fmt: str = "mp3", discreet: bool = False,
                   transcript: bool | None = None, force: bool = False,
                   progress: Callable[[float, str], None] | None = None, overrides: Mapping | None = None,
                   voice: str | None = None, rate: int | None = None, volume: float | None = None) -> ProgramExport:
    """Export every stage of the program at `path` into `folder`: numbered files, playlist, README."""
    from .playlist import PLAYLIST, README, Entry, m3u8, parse_m3u8, readme, stage_file
    if f".{fmt}" not in FORMATS:
        raise VoicecoachError(f"unknown audio format {fmt}; use one of {', '.join(f[1:] for f in FORMATS)}")
    title, about, stages = program_stages(Path(path), overrides)
    folder = _folder(folder)
    with_transcript = (not discreet) if transcript is None else transcript
    # Everything is rendered and laid out before the first file is written: a bad stage stops us early.
    sessions = [prepare(s.script, cache, overrides=s.params, voice=voice, rate=rate, volume=volume) for s in stages]
    album = NEUTRAL if discreet else title
    done, entries = [], []
    # Progress: the fraction of all stages' audio written, with the stage being worked on.
    total = max(1, sum(s.timeline.length for s in sessions))
    before_stage = 0
    for number, (stage, session) in enumerate(zip(stages, sessions), start=1):
        name = stage_file(number, stage.title, fmt, discreet=discreet)
        tags = session_tags(session, discreet=discreet, title=stage.title, album=album,
                            track=number, tracks=len(stages))
        share = session.timeline.length
        label = f"Stage {number} of {len(stages)}: {tags.title}"
        done.append(export_session(session, folder / name, tags, cache=cache, transcript=with_transcript, force=force,
                                   progress=_share(progress, label, before_stage, share, total) if progress else None))
        before_stage += share
        if progress:
            progress(before_stage / total, label)
        entries.append(Entry(name, tags.title, session.timeline.length))
    playlist, notes = folder / PLAYLIST, folder / README
    try:
        before = parse_m3u8(playlist.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        before = []
    write_text(playlist, m3u8(entries, album))
    write_text(notes, readme(album, entries, discreet=discreet, transcripts=with_transcript, about=about,
                             guidance=[s.guidance for s in stages]))
    removed = _remove_stale(folder, [e.file for e in before], {e.file for e in entries}, with_transcript)
    return ProgramExport(folder, album, tuple(done), playlist, notes, removed)


_OURS = re.compile(r"^(\d\d |Session \d\d\.)")


def _remove_stale(folder: Path, old: list, keep: set, transcripts: bool) -> tuple:
    # Only files an earlier export listed in its playlist, named as we name them: never a user's own file.
    removed = []
    for name in old:
        if name in keep or "/" in name or not _OURS.match(name) or Path(name).suffix not in FORMATS:
            continue
        for path in (folder / name, (folder / name).with_suffix(".vtt")):
            if path.is_file():
                path.unlink()
                removed.append(path)
    if not transcripts:
        for name in keep:
            vtt = (folder / name).with_suffix(".vtt")
            if vtt.is_file():
                vtt.unlink()
                removed.append(vtt)
    return tuple(removed)
