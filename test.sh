#!/usr/bin/env bash
# Lint, type-check and test; works on a fresh clone (the virtualenv is made when missing).
# Extra arguments go to pytest, e.g. ./test.sh -k quota -x
set -euo pipefail
# shellcheck source=scripts/venv.sh
source "$(dirname "$0")/scripts/venv.sh"  # cd to the repo root; .venv with the pinned dependencies
# shellcheck source=scripts/browser.sh
source scripts/browser.sh  # Debian's Chromium for the browser tests, when missing (as root)

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/pytest "$@"
