# `make run` and `make test` each set up everything first (tools/setup.sh is idempotent).
SCRIPT ?= scripts/pelvic-floor-release.yaml
OUT ?= out/session.mp3
VC = .venv/bin/voicecoach

.PHONY: setup run test bench
setup:
	@bash tools/setup.sh

# Plays the default session; on a machine with no audio device (exit code 3)
# it writes the session to $(OUT) instead and says where.
run: setup
	@$(VC) play $(SCRIPT); rc=$$?; \
	if [ $$rc -eq 3 ]; then mkdir -p $(dir $(OUT)) && $(VC) export $(SCRIPT) -o $(OUT) && \
	  echo "No audio device here, so the session was written to $(OUT) instead."; \
	else exit $$rc; fi

test: setup
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python -m benchmarks
