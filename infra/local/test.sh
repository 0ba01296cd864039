#!/usr/bin/env bash
# `make test` / CI: local stack up (reused if already up), fmt, cfn-lint, clippy, cargo test.
# Stops the stack services that this run started, whatever happens.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

STACK="$ROOT/infra/local/stack.sh"
log() { printf '[test] %s\n' "$*" >&2; }

own_stack=0
if ! ls "$ROOT"/.local/pids/*.pid >/dev/null 2>&1; then
  own_stack=1
fi
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  if ((own_stack)); then
    "$STACK" down || true
  fi
  if ((rc == 0)); then log "all checks passed"; else log "FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$STACK" up

log "cargo fmt --check"
cargo fmt --all -- --check

log "cfn-lint template.yaml (+ serverless rules)"
"$ROOT/infra/local/cfn-lint.sh"

log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
cargo test --workspace
