# `make run` sets up what playing needs first, `make test` what the tests need too (tools/setup.sh is idempotent).
SCRIPT ?= pelvic-floor-release
OUT ?= out/session.mp3
VC = .venv/bin/voicecoach

.PHONY: setup setup-test run test test-fast lint bench
setup:
	@bash tools/setup.sh

setup-test:
	@bash tools/setup.sh --test

# Plays the default session. On a machine with no audio device (play's exit status 3) it writes the session
# to $(OUT) instead and says so in one line; play's own line about the device, which suggests another
# file name, is left out then (any other message of play's is shown as it was).
run: setup
	@err=$$(mktemp); trap 'rm -f "$$err"' EXIT; $(VC) play $(SCRIPT) 2>"$$err"; rc=$$?; \
	if [ $$rc -eq 3 ]; then mkdir -p "$(dir $(OUT))" && $(VC) export $(SCRIPT) -o "$(OUT)" >/dev/null && \
	  echo "There is no sound device here, so the session was written to $(OUT) instead, to play on any device."; \
	else cat "$$err" >&2; exit $$rc; fi

# Everything CI runs: the linter, the type checker, then every test (the slow ones too).
test: setup-test lint
	.venv/bin/python -m pytest -q

# The quick loop while developing: the tests not marked slow (no real encoders or long renders).
test-fast: setup-test
	.venv/bin/python -m pytest -q -m "not slow"

lint: setup-test
	.venv/bin/ruff check voicecoach tests benchmarks
	.venv/bin/mypy

# The benchmarks measure every engine, festival and flite among them.
bench: setup-test
	.venv/bin/python -m benchmarks
