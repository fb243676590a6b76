#!/usr/bin/env bash
# Set up and run the service on the embedded SQLite store (data/zhanyou.db).
# `./run.sh` serves the API; `./run.sh demo` runs the 2021 notice end to end; `./run.sh --help`.
source "$(dirname "$0")/scripts/venv.sh"
if [ $# -eq 0 ]; then
    if [ -z "${ZHANYOU_BOOTSTRAP_TOKEN:-}" ]; then
        # A local admin token, made once and kept beside the data with owner-only access.
        (umask 077 && mkdir -p data)
        [ -s data/bootstrap-token ] || (umask 077 && .venv/bin/python -c \
            "import secrets; print(secrets.token_urlsafe(32))" > data/bootstrap-token)
        ZHANYOU_BOOTSTRAP_TOKEN=$(cat data/bootstrap-token)
        export ZHANYOU_BOOTSTRAP_TOKEN
        echo "admin token (Authorization: Bearer ...): in data/bootstrap-token" >&2
    fi
    .venv/bin/python -m api.pages.addresses http://127.0.0.1:8000
    set -- serve
fi
exec .venv/bin/zhanyou "$@"
