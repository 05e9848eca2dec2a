#!/usr/bin/env bash
# Install everything memo-ocr needs on a Debian machine: Tesseract with Russian, English and
# German data, the fonts the synthetic reel uses, and a virtual environment (.venv) with the
# package, its PDF, synth, Dask and handwriting (kraken + PyTorch) extras and the test tools.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# the typewriter faces beyond the reel's four are for training the typewriter model (memo-ocr train --kind typed)
APT_PACKAGES="tesseract-ocr tesseract-ocr-rus tesseract-ocr-eng tesseract-ocr-deu \
  fonts-dejavu-core fonts-freefont-ttf fonts-urw-base35 fonts-cmu poppler-utils \
  fonts-go fonts-anonymous-pro fonts-hack fonts-noto-mono fonts-courier-prime fonts-liberation fonts-paratype"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    echo "setup: installing python3-venv" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# PyTorch first, pinned (pip takes 2.14.1 from the local disk where it lies there; elsewhere from PyPI)
.venv/bin/python -m pip install -q 'torch==2.14.1' 'torchvision==0.29.1'
.venv/bin/python -m pip install -q -e '.[pdf,synth,dask,htr,test]'
# kraken 7.1.1 declares torch<=2.14; with 2.14.1 installed it works (tests/test_htr.py), hence --no-deps:
# its other dependencies are the [htr] extra above
.venv/bin/python -m pip install -q --no-deps 'kraken==7.1.1'
echo "setup: done ($(.venv/bin/memo-ocr --version), $(tesseract --version 2>&1 | head -1))" >&2
