#!/usr/bin/env bash
# Install what voicecoach needs on a fresh Debian/Ubuntu machine, idempotently: the system packages (as root,
# or through sudo) and the Python packages in .venv. `setup.sh` is what playing needs (`make run`);
# `setup.sh --test` adds what only the tests need (`make test`): the browser, strace, more voices, the test extra.
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=0
case "${1:-}" in
  "") ;;
  --test) for_tests=1 ;;
  *) echo "usage: tools/setup.sh [--test]" >&2; exit 2 ;;
esac

# simpleaudio (and pyalsaaudio) have no wheel on PyPI, only source (`pip download --only-binary :all:`
# finds none): pip compiles them, so gcc, Python's headers and ALSA's headers are needed to play.
# alsa-utils: `alsamixer` and `aplay -l`, to find and unmute a sound card that stays silent.
debs=(espeak-ng ffmpeg alsa-utils libasound2-dev gcc python3-venv python3-dev)
if [ "$for_tests" -eq 1 ]; then
  # The other engines (test_engines runs over every one), the browser for the phone page, strace for the
  # no-socket test.
  debs+=(festival festvox-us-slt-hts festvox-kallpc16k flite chromium chromium-driver strace)
fi
missing=()
for d in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$d" 2>/dev/null | grep -q "install ok installed" || missing+=("$d")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "voicecoach needs these Debian packages; install them as root: apt-get install ${missing[*]}" >&2; exit 1
  fi
  echo "Installing ${missing[*]} ..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
extras=piper
stamp=.venv/.voicecoach-installed
if [ "$for_tests" -eq 1 ]; then
  extras=test,piper
  stamp=.venv/.voicecoach-installed-test
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # Quiet, and no notice about pip's own version: a fresh machine's set-up prints nothing it does not mean.
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # setuptools' editable install of a flat layout adds a notice ("Editable installation ... folders with the
  # same name as your package") that pip shows as a warning even with -q: it says nothing about this set-up.
  .venv/bin/python -W "ignore:Editable installation:UserWarning" -m pip install -q -e ".[$extras]"
  touch "$stamp"
  [ "$for_tests" -eq 0 ] || touch .venv/.voicecoach-installed     # what playing needs came with it
fi
