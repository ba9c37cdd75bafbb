"""Cover art: a real square PNG any decoder reads, the same bytes every time, and a neutral one for discreet."""

import io
import subprocess

import numpy as np
from PIL import Image

from voicecoach.export.cover import SIZE, cover_png


def _pixels(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG" and image.size == (SIZE, SIZE) and image.mode == "RGB"
    return np.asarray(image)


def test_the_cover_is_a_square_png_that_pillow_and_ffprobe_read(tmp_path):
    data = cover_png(discreet=False)
    pixels = _pixels(data)
    assert 1400 <= SIZE <= 3000                  # what podcast directories take as artwork
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50      # a picture, not one flat colour
    (tmp_path / "c.png").write_bytes(data)
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of",
                          "csv=p=0", str(tmp_path / "c.png")], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"png,{SIZE},{SIZE}"
    assert len(data) < 200_000                   # small enough to sit inside every exported file


def test_the_cover_is_the_same_bytes_every_time():
    from voicecoach.export.cover import _OPEN, _picture, png
    assert png(_picture(*_OPEN, SIZE)) == cover_png(discreet=False)
    assert cover_png(discreet=True) == cover_png(discreet=True)


def test_the_shipped_covers_are_what_the_code_draws_and_the_module_draws_them_again(tmp_path):
    import sys
    from pathlib import Path

    from voicecoach.export import cover
    done = subprocess.run([sys.executable, "-m", "voicecoach.export.cover", str(tmp_path)], capture_output=True,
                          text=True, check=True)
    static = Path(cover.__file__).parent / "static"
    for discreet, name in cover.SHIPPED.items():
        assert f"Drew {tmp_path / name}" in done.stdout
        assert (tmp_path / name).read_bytes() == (static / name).read_bytes() == cover.drawn_png(discreet=discreet)


def test_the_discreet_cover_has_nothing_drawn_on_it():
    pixels = _pixels(cover_png(discreet=True))
    # Each row one colour: a plain gradient, no rings, no shape anyone could read something into.
    assert (pixels == pixels[:, :1, :]).all()
    assert cover_png(discreet=True) != cover_png(discreet=False)
    middle = _pixels(cover_png(discreet=False))[SIZE // 2]
    assert len(np.unique(middle, axis=0)) > 3        # the open cover's rings cross its middle row
