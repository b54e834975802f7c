#!/bin/sh
# Runs a command with the project's dependencies installed and Node 24 (the pinned npm package
# `node`) first on PATH, installing them first on a fresh clone. This lets `npm start` and `npm test`
# work as the very first command on a machine that has only the system Node 20 and npm.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)…" >&2
  npm ci --no-fund --no-audit --loglevel=error
fi
PATH="$root/node_modules/.bin:$PATH"
export PATH
exec "$@"
