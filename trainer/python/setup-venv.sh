#!/usr/bin/env bash
# Usage: setup-venv.sh [VENV_DIR]
# Creates the trainer's Python environment at VENV_DIR (default $TRAINER_VENV, else <repo>/.venv) with the pinned
# requirements.txt, and puts trainer/python on its path so `python -m searchop_trainer.*` works from anywhere.
# Idempotent: a stamp records the hash of requirements.txt and the interpreter; when both match, it exits at once.
# PYTHON names the interpreter to build from (default python3, 3.10 or newer).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
venv="$(realpath -m "${1:-${TRAINER_VENV:-$repo_root/.venv}}")"
requirements="$here/requirements.txt"
python="${PYTHON:-python3}"
stamp="$venv/.searchop-stamp"

fail() {
  echo "setup-venv: $*" >&2
  exit 1
}

command -v "$python" >/dev/null 2>&1 ||
  fail "'$python' not found on PATH; install Python 3.10 or newer (Debian: apt-get install python3 python3-venv) or set PYTHON"
# One interpreter call on the fast path (a pyenv shim costs ~0.1 s a call).
version="$("$python" -c 'import sys; print(sys.version.replace("\n", " ")); sys.exit(0 if sys.version_info >= (3, 10) else 3)')" ||
  fail "$("$python" --version 2>&1) is too old or broken; Python 3.10 or newer is needed (set PYTHON to another interpreter)"

want="$(printf '%s\n' "$(sha256sum "$requirements" | cut -d' ' -f1)" "$version" "$here" | sha256sum | cut -d' ' -f1)"

# Fast path without the lock: nothing to do when the stamp matches.
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# The lock lives outside the work tree (nothing to git-ignore) and outside the venv (which may be removed).
exec 9>"${TMPDIR:-/tmp}/searchop-venv-$(echo "$venv" | sha256sum | cut -c1-16).lock"
flock 9
# Another process may have finished the job while this one waited for the lock.
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

# Anything else there (older pins, another interpreter, a half-built venv) is rebuilt rather than patched, so the
# environment holds exactly the pinned set.
if [[ -e "$venv" ]]; then
  [[ -f "$venv/pyvenv.cfg" ]] || fail "$venv exists but is not a virtualenv; move it away or set TRAINER_VENV"
  echo "setup-venv: rebuilding $venv (requirements or interpreter changed)" >&2
  rm -rf "$venv"
fi
"$python" -c 'import venv, ensurepip' >/dev/null 2>&1 ||
  fail "$("$python" --version 2>&1) lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)"
echo "setup-venv: creating $venv with $("$python" --version 2>&1)" >&2
"$python" -m venv "$venv" || fail "'$python -m venv $venv' failed (Debian: apt-get install python3-venv)"

echo "setup-venv: installing $requirements" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
  --no-input -r "$requirements" >&2 || fail "pip install -r $requirements failed"

site_packages="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$here" >"$site_packages/searchop-trainer.pth"

"$venv/bin/python" -c 'import lightgbm, onnx, onnxruntime, pyarrow, searchop_trainer' ||
  fail "the environment at $venv does not import its packages"

echo "$want" >"$stamp"
echo "setup-venv: ready ($venv)" >&2
