"""Finding 9 of the second hardening round: the same session exported twice is the same file, byte for byte."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli

SCRIPT = """\
voicecoach: 1
title: Twice the same
steps:
  - section: First part
  - say: Hello there.
  - pause: 1s
  - section: Second part
  - say: Well done.
"""


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "opus"])
def test_the_same_session_exported_twice_is_byte_identical(fmt, write_script, tmp_path):
    script = write_script(SCRIPT)
    made = []
    for name in ("a", "b"):    # --force: the second export is made again, not skipped as up to date
        out = tmp_path / f"{name}.{fmt}"
        result = CliRunner().invoke(cli, ["export", str(script), "-o", str(out), "--force"])
        assert result.exit_code == 0, result.output
        made.append(out.read_bytes())
    assert made[0] == made[1]
