#!/usr/bin/env bash
# Install everything voicecoach needs on a fresh Debian/Ubuntu machine, idempotently:
# the system packages (as root, or through sudo) and the Python packages in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(espeak-ng ffmpeg alsa-utils libasound2-dev gcc python3-venv python3-dev festival festvox-us-slt-hts festvox-kallpc16k flite chromium chromium-driver strace)
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
stamp=.venv/.voicecoach-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test,piper]'
  touch "$stamp"
fi
