#!/bin/sh
# Every test: the trainer's Python checks (pinned venv created when missing; ruff, pytest), then the
# vitest projects (unit, then integration against real services). A failure stops the run.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
echo "== Python: trainer/python (ruff, pytest)"
bash trainer/python/check.sh
echo "== vitest: unit and integration"
exec vitest run "$@"
