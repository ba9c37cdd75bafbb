"""Realistic benchmark sessions: squeeze and breathe cycles, counted holds and spoken guidance."""

from __future__ import annotations

from pathlib import Path

# Our own calm, second-person lines; a long session reuses them as a real one would.
GUIDANCE = [
    "Let your shoulders soften and drop a little.",
    "Notice where your body meets the surface below you.",
    "There is no hurry. Take this at your own pace.",
    "If a thought pulls you away, that is fine. Come back to your breath.",
    "Let your jaw loosen, and your tongue rest.",
    "Feel your belly rise gently as the air comes in.",
    "You can pause at any time, and pick up again when you feel ready.",
    "Let the muscles low in your pelvis feel heavy and warm.",
    "A gentle squeeze is enough. It never needs to be hard.",
    "The letting go matters more than the squeeze.",
    "Notice any tension in your thighs, and let it melt.",
    "Breathe out a little longer than you breathe in.",
    "Each round is a small kindness to yourself.",
    "If anything feels sore, rest for a while. That is part of the practice.",
    "Let your hands lie open and easy.",
    "Imagine the floor of your pelvis softening like warm sand.",
    "You are doing this for yourself, in your own time.",
    "Let your breath find its own easy rhythm.",
    "Notice the moment the muscles let go.",
    "Rest your attention on the space between your hips.",
    "Let your forehead smooth out.",
    "Your body is allowed to take its time.",
    "Feel the weight of your legs, supported and still.",
    "Nothing needs to happen. Just notice.",
]

ROUND_SECONDS = 163  # a round is about two and a half minutes with its guidance


def script_text(minutes: float) -> str:
    """A version-1 script about `minutes` long, about 30 % of it speech."""
    rounds = max(1, round(minutes * 60 / ROUND_SECONDS))
    cycles, reps = (3, 4) if minutes * 60 >= ROUND_SECONDS / 2 else (1, 1)  # a tiny session: one short round
    lines = [
        "voicecoach: 1",
        f"title: Benchmark session, {minutes:g} minutes",
        "about: Generated for the performance benchmark.",
        # The engine the naive baseline uses (pyttsx3, espeak-ng behind it), not the most natural installed one.
        "voice: {name: pyttsx3, rate: 140}",
        "steps:",
        "  - section: Settling in",
        "  - say: Welcome. This time is just for you.",
        "  - pause: 2",
        "  - say: Find a position that feels comfortable, lying down or sitting.",
        "  - pause: 2",
    ]
    for r in range(rounds):
        g = [GUIDANCE[(r * 5 + i) % len(GUIDANCE)] for i in range(5)]
        lines += [
            f"  - section: Round {r + 1}",
            f"  - say: Round {r + 1} of {rounds}.",
            "  - pause: 1",
            f"  - say: {g[0]}",
            "  - pause: 1",
            f"  - say: {g[1]}",
            f"  - breathe: {{in: 4, out: 6, cycles: {cycles}}}",
            f"  - say: {g[2]}",
            "  - pause: 1",
            "  - say: When you hear tighten, squeeze gently, and let go when you hear the word.",
            "  - pause: 1",
            f"  - squeeze: {{hold: 5, rest: 8, reps: {reps}, count: true}}",
            f"  - say: {g[3]}",
            "  - pause: 1",
            f"  - breathe: {{in: 4, hold: 2, out: 6, cycles: {cycles}}}",
            f"  - say: {g[4]}",
            "  - pause: 2",
            f"  - squeeze: {{hold: 3, rest: 6, reps: {reps}}}",
        ]
    lines += [
        "  - section: Closing",
        "  - say: Notice how you feel now. Whatever you feel is fine.",
        "  - pause: 2",
        "  - say: You gave yourself some care today.",
        "  - chime: {}",
    ]
    return "\n".join(lines) + "\n"


def write_session(folder: Path, minutes: float) -> Path:
    """Write the benchmark script for `minutes` into `folder`; return its path."""
    path = Path(folder) / f"session-{minutes:g}min.yaml"
    path.write_text(script_text(minutes), encoding="utf-8")
    return path
