"""The serve benchmark still runs: a tiny program, a few phones (no timing is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_serve_benchmark_measures_the_feed_and_the_page_against_static_files(tmp_path):
    out = tmp_path / "serve.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.serve", "--stages", "2", "--phones", "3",
                           "--requests", "5", "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "feed: request to last byte" in proc.stdout and "page: request to last byte" in proc.stdout
    report = json.loads(out.read_text())
    assert set(report["cases"]) == {"feed", "static_feed", "page", "static_page"}
    assert report["cases"]["feed"]["requests"] == 15 and report["sizes"]["feed"] > 1000
    for name in ("feed", "page"):
        assert set(report["ratios"][name]) == {"time_alone", "time_together", "peak_rss", "peak_rss_over_idle"}
        assert all(value > 0 for value in report["ratios"][name].values())
