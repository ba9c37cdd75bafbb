"""The share link as a QR code a phone's camera can read straight off the terminal."""

from __future__ import annotations

import io

import segno


def terminal_qr(text: str) -> str:
    """`text` as a QR code drawn with half-block characters, two modules per character cell."""
    # segno draws light modules as blocks, like `qrencode -t UTF8`: right on the usual dark terminal,
    # and phone scanners also read the inverted code a light terminal shows. Error level M survives a
    # slightly blurry photo of a screen; the quiet zone of four modules is part of the drawing.
    code = segno.make(text, error="m", boost_error=False)
    out = io.StringIO()
    code.terminal(out=out, compact=True, border=4)
    return out.getvalue()
