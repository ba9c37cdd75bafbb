"""The progress chart: a real PNG of the expected size, private, written atomically."""

from __future__ import annotations

import os
import stat
import struct
from datetime import date

import pytest
from click.testing import CliRunner
from test_progress import HISTORY, STAGES, TODAY

from voicecoach.cli import cli
from voicecoach.errors import VoicecoachError
from voicecoach.practice import chart
from voicecoach.practice.progress import summarise


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_chart_of_a_fixture_history(tmp_path):
    out = chart.write_png(summarise(HISTORY, STAGES, TODAY), tmp_path / "progress.png")
    assert png_size(out) == (chart.WIDTH * chart.DPI, chart.HEIGHT * chart.DPI) == (800, 600)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert os.listdir(tmp_path) == ["progress.png"]


def test_chart_draws_the_weeks_the_line_and_the_sizes():
    p = summarise(HISTORY, STAGES, TODAY)
    weeks_ax, size_ax = chart.figure(p).axes
    bars = weeks_ax.patches
    assert [round(b.get_height()) for b in bars] == [3, 4, 3, 1]     # from the first week with practice
    assert bars[-1].get_hatch() == "////"                             # this week, still under way
    assert [line.get_ydata()[0] for line in weeks_ax.get_lines()] == [3]
    step = size_ax.get_lines()[0]
    assert list(step.get_ydata()) == [1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]   # the day's largest size, held to today
    assert step.get_xdata()[-1] == date(2026, 11, 25)


def test_an_empty_log_still_draws_a_friendly_chart(tmp_path):
    p = summarise([], STAGES, TODAY)
    weeks_ax, size_ax = chart.figure(p).axes
    assert len(weeks_ax.patches) == 4 and "will show here" in size_ax.texts[0].get_text()
    assert png_size(chart.write_png(p, tmp_path / "empty.png")) == (800, 600)


def test_a_failed_write_is_one_line_and_leaves_the_old_chart(tmp_path, monkeypatch):
    from matplotlib.figure import Figure
    p = summarise(HISTORY, STAGES, TODAY)
    old = tmp_path / "progress.png"
    old.write_bytes(b"previous")

    def disk_full(self, target, **kwargs):
        with open(target, "wb") as f:
            f.write(b"\x89PNG half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", disk_full)
    with pytest.raises(VoicecoachError, match="progress.png: could not be written: no space left on "):
        chart.write_png(p, old)
    assert old.read_bytes() == b"previous" and os.listdir(tmp_path) == ["progress.png"]
    with pytest.raises(VoicecoachError, match="could not be written"):
        chart.write_png(p, tmp_path / "no-such-folder" / "x.png")


def test_progress_plot_command(tmp_path):
    out = tmp_path / "progress.png"
    db = str(tmp_path / "log.db")
    CliRunner().invoke(cli, ["log", "trainer", "--size", "1", "--comfort", "4", "--db", db])
    result = CliRunner().invoke(cli, ["progress", "--plot", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert f"Chart: {out}" in result.output and png_size(out) == (800, 600)
