"""WAV files: mono 16-bit at the internal rate, written block by block."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING, Callable, cast

import numpy as np

from voicecoach.units import RATE

if TYPE_CHECKING:
    from typing_extensions import Buffer


def write_wav(path: Path, blocks, progress: Callable[[int], None] | None = None) -> None:
    """Write int16 blocks at RATE to `path` as a mono 16-bit WAV."""
    # The file is opened first: wave.open on a path it cannot open leaves a half-made writer whose
    # finaliser raises later.
    with open(path, "wb") as f, wave.open(f, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        for block in blocks:
            # numpy's stubs only declare __buffer__ for Python 3.12+; cast rather than copy each block.
            w.writeframesraw(cast("Buffer", np.ascontiguousarray(block, dtype="<i2")))
            if progress:
                progress(len(block))
