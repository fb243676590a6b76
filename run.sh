#!/usr/bin/env bash
# Set up and run the service's main job on the embedded SQLite store (data/zhanyou.db).
source "$(dirname "$0")/scripts/venv.sh"
exec .venv/bin/zhanyou "${@:-demo}"
