"""voicecoach: voice-guided exercise scripts rendered to exactly timed audio."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core at import, which spins waiting for matrix work that voicecoach
# never gives it (its signals are 1-D: FFTs and sums); on two cores the spin competes with the speech workers
# and the player. Measured, paired: importing the session layer 0.37 → 0.24 s of CPU, a cold 10-minute
# export about 0.1 s of CPU less (its time on the clock moved less than the machine's noise). Set before
# anything imports numpy; a value the user set stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from voicecoach.errors import VoicecoachError  # noqa: E402

__all__ = ["VoicecoachError", "__version__"]
