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
dev_pid=""
if ! ls "$ROOT"/.local/pids/*.pid >/dev/null 2>&1; then
  own_stack=1
fi
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  if [[ -n "$dev_pid" ]] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -TERM "$dev_pid" 2>/dev/null || true
    wait "$dev_pid" 2>/dev/null || true
  fi
  if ((own_stack)); then
    "$STACK" down || true
  fi
  if ((rc == 0)); then
    log "all checks passed"
    # One closing line for the whole run (cargo's own last line is a 0-test binary).
    awk '/^test result:/ {for (i = 1; i <= NF; i++) if ($i == "passed;") s += $(i - 1)}
         /^(smoke|crash): [0-9]+ passed/ {s += $2}
         END {printf "tests: %d passed, 0 failed\n", s}' \
      "$ROOT/.local/logs/cargo-test.log" "$ROOT/.local/logs/smoke.log" "$ROOT/.local/logs/crash.log"
  else
    log "FAILED (exit $rc)"
  fi
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

log "sam validate --lint, checkov (template.yaml, infra/bootstrap.yaml)"
"$ROOT/infra/local/template-check.sh"

log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

log "cargo test"
mkdir -p "$ROOT/.local/logs"
# --lib --bins --tests: every unit and integration test, but not the benches (make bench).
cargo test --workspace --lib --bins --tests 2>&1 | tee "$ROOT/.local/logs/cargo-test.log"

# The API as partners see it: make dev's API + SQS bridge, checked over HTTP.
log "HTTP smoke test against make dev (log: .local/logs/dev-smoke.log)"
mkdir -p "$ROOT/.local/logs"
"$ROOT/infra/local/dev.sh" >"$ROOT/.local/logs/dev-smoke.log" 2>&1 &
dev_pid=$!
if ! python3 "$ROOT/infra/local/smoke.py" "http://127.0.0.1:${RELIER_WATCH_PORT}" | tee "$ROOT/.local/logs/smoke.log"; then
  tail -n 40 "$ROOT/.local/logs/dev-smoke.log" >&2 || true
  exit 1
fi

stop_dev() {
  kill -TERM "$dev_pid" 2>/dev/null || true
  wait "$dev_pid" 2>/dev/null || true
  dev_pid=""
}
stop_dev

# Crashes as on Lambda: make dev again with a slow provider and short timers; kill -9 the worker
# and the topup function mid-flight; everything settles, money moves once (infra/local/crash_test.py).
log "crash test against make dev (log: .local/logs/dev-crash.log)"
SANDBOX_LATENCY_MS=4000 PROCESSING_LEASE_SECS=8 RECONCILER_INTERVAL_SECS=10 \
  "$ROOT/infra/local/dev.sh" >"$ROOT/.local/logs/dev-crash.log" 2>&1 &
dev_pid=$!
if ! SANDBOX_LATENCY_MS=4000 PROCESSING_LEASE_SECS=8 RECONCILER_INTERVAL_SECS=10 \
  python3 "$ROOT/infra/local/crash_test.py" "http://127.0.0.1:${RELIER_WATCH_PORT}" | tee "$ROOT/.local/logs/crash.log"; then
  tail -n 40 "$ROOT/.local/logs/dev-crash.log" >&2 || true
  exit 1
fi
stop_dev
