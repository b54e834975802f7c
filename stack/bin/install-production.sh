#!/bin/sh
# Installs the production dependencies of the npm workspaces in the current directory exactly as the
# container images do (Dockerfile, stage `deps`), so that a test can prove they suffice without Docker:
# `npm ci --omit=dev` from the lockfile, without install scripts (none of the production packages needs
# one; onnxruntime-node's would download CUDA files), then the patches of patches/ that patch-package
# (a devDependency, absent here) applies after a development install.
set -eu
[ -f package.json ] && [ -f package-lock.json ] || {
  echo "install-production: run it where package.json and package-lock.json are" >&2
  exit 1
}
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
for p in patches/*.patch; do
  [ -e "$p" ] || continue
  patch -p1 --forward --quiet <"$p"
done
