"""How fast hostile script files are refused, as a fraction of the 2-second budget (issue 7).

    python -m benchmarks.hostile
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

BUDGET_S = 2.0
ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import sys, time
from voicecoach.exercise.script import load_script
from voicecoach.exercise.timeline import build_timeline
from voicecoach.errors import VoicecoachError
t = time.perf_counter()
try:
    build_timeline(load_script(sys.argv[1]), {'hi': 300})
except VoicecoachError:
    pass
print(time.perf_counter() - t)
"""


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.test_document import HOSTILE  # the same files the tests refuse
    with tempfile.TemporaryDirectory() as tmp:
        for name, (make, _) in HOSTILE.items():
            path = Path(tmp) / "hostile.yaml"
            path.write_bytes(make())
            seconds = float(subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=ROOT,
                                           capture_output=True, text=True, check=True).stdout)
            print(f"{name:<24} refused in {seconds / BUDGET_S:6.3f} of the {BUDGET_S:g} s budget "
                  f"({path.stat().st_size / 1e6:6.2f} MB file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
