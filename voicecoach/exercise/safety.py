"""When to stop: the short safety guidance every exported folder and the phone page carry (README's own words)."""

from __future__ import annotations

HEADING = "When to stop"
# Three short sentences, not a wall of text: the README's "Stop and seek medical help" paragraph, shortened.
WHEN_TO_STOP = (
    "Stop if something hurts sharply or you notice bleeding. Discomfort that eases as you soften is part "
    "of the practice; sharp or lasting pain is not something to work through.",
    "Seek medical help for bleeding, severe or worsening pain, pain that goes on after you stop, unusual "
    "discharge or signs of infection.",
    "These sessions go alongside the care of your doctor or physiotherapist, not instead of it.",
)
# For a discreet folder or page: the same advice in words that say nothing about what is practised.
NEUTRAL_WHEN_TO_STOP = (
    "Stop whenever something hurts sharply, and rest. If pain is severe or does not ease, ask your doctor.",
)
