"""Voice samples: the same words in several voices, one WAV each, to compare them by ear."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from voicecoach.audio.wav import write_wav
from voicecoach.files import atomic_path, written
from voicecoach.speech.engine import EngineVoice
from voicecoach.speech.pool import render
from voicecoach.speech.voice import Voice


def _store(target: Path, _text: str, samples) -> None:
    with written(target), atomic_path(target) as tmp:
        write_wav(tmp, [samples])


def write_samples(text: str, folder, voices: list[EngineVoice], rate: int, progress=None) -> list[Path]:
    """The same text in each voice, one WAV per voice in `folder`, named engine-voice.wav."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for v in voices:
        target = folder / (f"{v.engine}-{v.id}".replace("/", "-") + ".wav")
        # store() runs in the worker process, so it writes the file itself (atomically).
        render(Voice(engine=v.engine, name=v.id, rate=rate), [text], partial(_store, target))
        written.append(target)
        if progress:
            progress(target)
    return written
