#!/usr/bin/env bash
# The CI steps, one function each, shared by .ci/run (all of them, in order, on a fresh clone) and by
# .github/workflows/*.yml (each job calls the steps it needs), so the two cannot drift: a unit test
# (stack/src/deploy-check) fails when a workflow runs anything but `bash .ci/steps.sh <step>`.
# Usage: bash .ci/steps.sh <step>...
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the stack and the tests need, and the deploy checks' tools (terraform, kustomize);
# what cannot be installed stops the run with the reason.
step_prerequisites() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server redis-tools)
  command -v kcat >/dev/null || missing+=(kcat)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v patch >/dev/null || missing+=(patch)
  command -v promtool >/dev/null || missing+=(prometheus) # rules checks, Prometheus integration test
  command -v prometheus-pushgateway >/dev/null || missing+=(prometheus-pushgateway)
  if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    apt_get update -qq
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq "${missing[@]}" >/dev/null
  fi
  deploy_tools
}

apt_get() {
  if [[ $(id -u) -eq 0 ]]; then apt-get "$@"; else sudo apt-get "$@"; fi
}

# terraform (fmt) and kustomize (kubectl's built-in one, or the standalone binary); installed from the
# Go module proxy when missing. The versions are the ones this project was checked with.
deploy_tools() {
  local gobin
  gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
  export PATH="$PATH:$gobin"
  if ! command -v terraform >/dev/null; then
    command -v go >/dev/null || { echo "terraform is missing and there is no Go toolchain to build it" >&2; exit 1; }
    echo "installing terraform 1.11.4 (go install)"
    go install github.com/hashicorp/terraform@v1.11.4
  fi
  if ! command -v kustomize >/dev/null && ! kubectl kustomize --help >/dev/null 2>&1; then
    command -v go >/dev/null || { echo "kustomize is missing and there is no Go toolchain to build it" >&2; exit 1; }
    echo "installing kustomize v5.5.0 (go install)"
    go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
  fi
  terraform version -json 2>/dev/null | sed -n "s/.*\"terraform_version\": *\"\([^\"]*\)\".*/terraform \1/p"
  if command -v kustomize >/dev/null; then kustomize version; else kubectl version --client 2>/dev/null | grep -i kustomize; fi
}

step_install() {
  npm ci --no-fund --no-audit --loglevel=error
}

# Types, lint, formatting, generated code, then the deployment files (Dockerfile, compose, k8s,
# terraform, workflows).
step_check() {
  npm run --silent check
  npm run --silent check:deploy
}

# The README's test command on the local stack, stopped afterwards if this step started it.
step_test() {
  npm run --silent stack:up
  trap 'echo "== stack down"; npm run --silent stack:down || true' EXIT
  npm test
}

# The closed loop on the built-in world: trains, evaluates against the logged order and the baselines,
# gates and promotes (what `npm start` runs), shortened for CI.
step_evaluate() {
  npm run --silent stack:up
  trap 'echo "== stack down"; npm run --silent stack:down || true' EXIT
  sh stack/bin/with-deps.sh node stack/src/cli.ts pipeline --live-seconds 60
}

(($#)) || { echo "usage: bash .ci/steps.sh <prerequisites|install|check|test|evaluate>..." >&2; exit 2; }
for step in "$@"; do
  case "$step" in
    prerequisites | install | check | test | evaluate)
      echo "== $step"
      "step_$step"
      ;;
    *)
      echo "unknown step: $step" >&2
      exit 2
      ;;
  esac
done
