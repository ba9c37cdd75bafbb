"""The package's own metadata: it builds without warnings on a fresh machine, and the type checker sees YAML's types."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_licence_is_an_spdx_expression_that_the_build_backend_reads():
    # The table form ({text = "MIT"}) is deprecated by setuptools, removed after 2027-02-18: a fresh
    # install would then fail to build. setuptools reads the SPDX string from version 77 on.
    assert PROJECT["project"]["license"] == "MIT"
    wanted = [r for r in PROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert wanted and int(re.search(r">=(\d+)", wanted[0]).group(1)) >= 77


def test_the_type_checker_has_yamls_stubs():
    # Without them mypy takes every yaml value as Any and missed three optional-access errors.
    assert any("types-PyYAML" in r for r in PROJECT["project"]["optional-dependencies"]["test"])
    assert importlib.util.find_spec("yaml-stubs") is not None


@pytest.mark.slow
def test_building_the_package_gives_no_deprecation_warning(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-w", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "deprecat" not in (done.stdout + done.stderr).lower()
    # The files the package reads with importlib.resources travel in the wheel.
    import zipfile
    names = set(zipfile.ZipFile(next(tmp_path.glob("voicecoach-*.whl"))).namelist())
    for shipped in ("voicecoach/export/static/cover.png", "voicecoach/export/static/cover-discreet.png",
                    "voicecoach/phone/static/app.js", "voicecoach/scripts/trainer.yaml"):
        assert shipped in names, shipped
