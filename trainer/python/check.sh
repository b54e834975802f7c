#!/usr/bin/env bash
# The trainer's Python checks, as CI runs them: the pinned environment (created when missing), lint, format, tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/setup-venv.sh"
venv="$(realpath -m "${TRAINER_VENV:-$here/../../.venv}")"
cd "$here"
"$venv/bin/ruff" check .
"$venv/bin/ruff" format --check .
"$venv/bin/python" -m pytest -q "$@"
