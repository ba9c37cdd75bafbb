"""Voice samples: the same words in several voices, one WAV each, to compare them by ear."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

from voicecoach.audio.wav import write_wav
from voicecoach.errors import VoicecoachError
from voicecoach.files import atomic_path, written
from voicecoach.speech.engine import EngineVoice
from voicecoach.speech.engines import engine, file_safe, short_spec
from voicecoach.speech.pool import render
from voicecoach.speech.voice import Voice


def _store(target: Path, _text: str, samples) -> None:
    with written(target), atomic_path(target) as tmp:
        write_wav(tmp, [samples])


def write_samples(text: str, folder, voices: list[EngineVoice], rate: int, progress=None,
                  failed: Callable[[EngineVoice, VoicecoachError], None] | None = None,
                  siblings: list[EngineVoice] | None = None) -> list[Path]:
    """The same text in each voice, one WAV per voice in `folder`, named by the spec `voicecoach voices` lists
    for it among `siblings` (festival:slt -> festival-slt.wav); a voice that cannot speak goes to `failed`
    (when given) and the others are still written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for v in voices:
        target = folder / (file_safe(short_spec(v, voices if siblings is None else siblings)) + ".wav")
        try:
            # A listed id is what `--voice` takes, not always what the engine loads: a Piper voice from the
            # user's voices folder is listed by its name and loaded by its file's path.
            name = engine(v.engine).resolve(v.id) or v.id
            # store() runs in the worker process, so it writes the file itself (atomically).
            render(Voice(engine=v.engine, name=name, rate=rate), [text], partial(_store, target))
        except VoicecoachError as e:
            # A damaged model in the voices folder is listed (its first bytes look right) and fails only
            # once loaded: the voices worth hearing are still written.
            if failed is None:
                raise
            failed(v, e)
            continue
        done.append(target)
        if progress:
            progress(target)
    return done
