"""The one exception type for mistakes a user can make or fix."""

# Exit status for "no audio device": lets a wrapper fall back to exporting a file.
NO_AUDIO_DEVICE = 3


class VoicecoachError(Exception):
    """A problem a person can fix; its message is meant to be read by them, on one line."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(one_line(message))
        self.exit_code = exit_code


def one_line(text: str) -> str:
    """`text` with every control character written as an escape, so a message is always one line."""
    # A file name may hold a newline or a terminal escape; a message naming it must show, not obey, it.
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def at(path, line, message):
    """Return a VoicecoachError whose message starts with `file:line:`."""
    where = f"{path}:{line}" if line else f"{path}"
    return VoicecoachError(f"{where}: {message}")


def shown(value, limit: int = 80) -> str:
    """`value` as an error quotes it: repr (control characters escaped, one line), at most `limit` characters."""
    text = repr(value) if isinstance(value, str) else str(value) if isinstance(value, (int, float)) else repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 30:
        text = f"a {len(str(abs(value)))}-digit number"
    return text if len(text) <= limit else text[:limit - 1] + "…"
