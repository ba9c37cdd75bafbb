# `make run` and `make test` each set up everything first (tools/setup.sh is idempotent).
SCRIPT ?= scripts/pelvic-floor-release.yaml
OUT ?= out/session.mp3
VC = .venv/bin/voicecoach

.PHONY: setup run test test-fast lint bench
setup:
	@bash tools/setup.sh

# Plays the default session; on a machine with no audio device (exit code 3)
# it writes the session to $(OUT) instead and says where.
run: setup
	@$(VC) play $(SCRIPT); rc=$$?; \
	if [ $$rc -eq 3 ]; then mkdir -p $(dir $(OUT)) && $(VC) export $(SCRIPT) -o $(OUT) && \
	  echo "No audio device here, so the session was written to $(OUT) instead."; \
	else exit $$rc; fi

# Everything CI runs: the linter, the type checker, then every test (the slow ones too).
test: setup lint
	.venv/bin/python -m pytest -q

# The quick loop while developing: the tests not marked slow (no real encoders or long renders).
test-fast: setup
	.venv/bin/python -m pytest -q -m "not slow"

lint: setup
	.venv/bin/ruff check voicecoach tests benchmarks
	.venv/bin/mypy

bench: setup
	.venv/bin/python -m benchmarks
