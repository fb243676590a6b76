# Sourced by run.sh and test.sh: a project-local virtualenv with the pinned dependencies.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=.venv/.installed-$(cat pyproject.toml constraints.txt 2>/dev/null | sha1sum | cut -c1-12)
if [ ! -e "$stamp" ]; then
    .venv/bin/python -m pip install -q -c constraints.txt -e '.[dev]'
    rm -f .venv/.installed-* && touch "$stamp"
fi
