"""What the command line sets up for its process: SIGTERM and SIGHUP stop it as Ctrl-C does, its output fits
the terminal's encoding, and an output it cannot write is one line, never a traceback."""

from __future__ import annotations

import codecs
import errno
import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

# Characters the messages use, as plain text for a terminal whose encoding cannot hold them (latin-1, ASCII).
PLAIN = {"—": "-", "–": "-", "…": "...", "’": "'", "‘": "'", "“": '"', "”": '"', "→": "->", "✓": "ok",
         "×": "x", "·": "-", "•": "*", "≈": "~", "−": "-", "\u00a0": " ", "\u202f": " "}
PLAIN_ERRORS = "voicecoach-plain"
# Writing to these says that the output has nowhere to go, not that voicecoach went wrong.
UNWRITABLE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EPIPE, errno.EBADF}


class Stopped(KeyboardInterrupt):
    """A signal that asks us to stop (SIGTERM, SIGHUP), raised where Ctrl-C would be, with the shell's exit status."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def _plain(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(PLAIN.get(c, "?") for c in text), error.end


# Code an exception must not land in: logging takes its lock before every fork and releases it after, and an
# exception raised in that release is "ignored" with the lock still held, so the stop was lost and the next
# fork from a worker thread waited forever (an export that SIGTERM hung instead of stopping). `__del__` and
# weakref callbacks swallow exceptions the same way.
HOOK_FILES = frozenset(os.path.normcase(os.path.abspath(f)) for f in (logging.__file__,))
HOOK_NAMES = frozenset({"__del__", "_releaseLock", "_acquireLock"})
RETRY_S = 0.02


def in_a_hook(frame) -> bool:
    """Whether the code a signal interrupted would swallow an exception raised there (or hold a lock)."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in HOOK_NAMES or os.path.normcase(os.path.abspath(code.co_filename)) in HOOK_FILES:
            return True
        frame = frame.f_back
    return False


def _stop(signum, frame) -> None:
    if in_a_hook(frame):
        # Ask again in a moment, when the main thread has left the hook.
        again = threading.Timer(RETRY_S, os.kill, (os.getpid(), signum))
        again.daemon = True
        again.start()
        return
    raise Stopped(signum)


PLAIN_ASCII = "voicecoach-ascii"


class _PlainAsciiEncoder(codecs.IncrementalEncoder):
    def encode(self, input: str, final: bool = False) -> bytes:
        return input.encode("ascii", PLAIN_ERRORS)


def _plain_ascii(name: str) -> codecs.CodecInfo | None:
    if name != PLAIN_ASCII.replace("-", "_"):
        return None
    ascii_codec = codecs.lookup("ascii")
    return codecs.CodecInfo(lambda text, errors="strict": (text.encode("ascii", PLAIN_ERRORS), len(text)),
                            ascii_codec.decode, name=PLAIN_ASCII, incrementalencoder=_PlainAsciiEncoder,
                            incrementaldecoder=ascii_codec.incrementaldecoder,
                            streamreader=ascii_codec.streamreader, streamwriter=ascii_codec.streamwriter)


def plain_output() -> None:
    """Let stdout and stderr write '—' and its kind as plain characters where their encoding has no room for them."""
    try:
        codecs.lookup_error(PLAIN_ERRORS)
    except LookupError:
        codecs.register_error(PLAIN_ERRORS, _plain)
        codecs.register(_plain_ascii)
    for stream in (sys.stdout, sys.stderr):
        if stream is None or not hasattr(stream, "reconfigure"):
            continue
        name = codecs.lookup(getattr(stream, "encoding", None) or "ascii").name
        if name.startswith("utf"):
            continue
        # click takes an ASCII stream for a misconfigured locale and writes UTF-8 to it anyway: an ASCII that
        # writes plain characters is not "ascii" to it, so it keeps the stream as it is.
        stream.reconfigure(encoding=PLAIN_ASCII if name == "ascii" else None, errors=PLAIN_ERRORS)


@contextmanager
def guarded():
    """The command's process: SIGTERM and SIGHUP raise Stopped, output fits its encoding, and an output that
    cannot be written (a full device, a closed pipe) ends the command with one line on stderr."""
    plain_output()
    before = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            yield
        finally:
            # Python flushes stdout after we return, where a failure would be "Exception ignored ...".
            sys.stdout.flush()
    except OSError as e:
        if e.errno not in UNWRITABLE:
            raise
        _cannot_write(e)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def _cannot_write(error: OSError) -> None:
    # Whatever is still buffered cannot go out either: send it nowhere, so the exit is quiet.
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.write(f"Error: the output could not be written ({error.strerror or error}); "
                         "send it to a file or a terminal that can take it\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    sys.exit(1)
