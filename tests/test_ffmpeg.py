"""Running ffmpeg: the pipe that feeds it, and its failures in a person's words."""

import fcntl
import os

import pytest

from voicecoach.audio import ffmpeg
from voicecoach.export.encode import BLOCK_MS
from voicecoach.units import SAMPLES_PER_MS

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def test_the_pipe_to_ffmpeg_holds_a_whole_block_of_an_export():
    # Otherwise ffmpeg waits while the next block is made (an hour's bed added 0.9 s to its export).
    assert ffmpeg.PIPE_BYTES >= BLOCK_MS * SAMPLES_PER_MS * 2
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "wb") as pipe:
        before = fcntl.fcntl(pipe.fileno(), F_GETPIPE_SZ)
        ffmpeg._widen(pipe)
        after = fcntl.fcntl(pipe.fileno(), F_GETPIPE_SZ)
    with open("/proc/sys/fs/pipe-max-size") as f:
        allowed = int(f.read())
    assert after >= min(ffmpeg.PIPE_BYTES, max(allowed, before)) and after > before


@pytest.mark.parametrize("log, status, words", [
    ("[out] Error writing trailer: No space left on device\n", 1, "not enough space"),
    ("Input #0\nfoo.ogg: Invalid data found when processing input\n", 1, "Invalid data found"),
])
def test_a_failure_is_the_line_a_person_can_act_on(log, status, words):
    assert words in ffmpeg.failure(log, status)
