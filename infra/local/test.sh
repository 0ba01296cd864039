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
         /^(smoke|crash|browser): [0-9]+ passed/ {s += $2}
         /^edge [a-z]+: [0-9]+ passed/ {s += $3}
         END {printf "tests: %d passed, 0 failed\n", s}' \
      "$ROOT/.local/logs/cargo-test.log" "$ROOT/.local/logs/smoke.log" "$ROOT/.local/logs/edge.log" \
      "$ROOT/.local/logs/crash.log" "$ROOT/.local/logs/browser.log"
  else
    log "FAILED (exit $rc)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Debian's chromium + chromedriver for the dashboard's browser test (idempotent: skipped when
# both are installed; one apt-get update, then apt-get install).
install_chromium() {
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    return 0
  fi
  local sudo=""
  ((EUID == 0)) || sudo="sudo"
  log "installing chromium + chromium-driver (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
}

install_chromium
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
rm -f "$ROOT/.local/logs/smoke-exchanges.jsonl"
if ! SMOKE_RECORD="$ROOT/.local/logs/smoke-exchanges.jsonl" \
  python3 "$ROOT/infra/local/smoke.py" "http://127.0.0.1:${RELIER_WATCH_PORT}" | tee "$ROOT/.local/logs/smoke.log"; then
  tail -n 40 "$ROOT/.local/logs/dev-smoke.log" >&2 || true
  exit 1
fi

# The API's edge and its contract (README: "Rate limits, allowlists and the contract").
log "OpenAPI contract: examples against the handlers, smoke exchanges against the schemas"
"$ROOT/.tools/venv/bin/python" "$ROOT/infra/local/edge_check.py" contract \
  "http://127.0.0.1:${RELIER_WATCH_PORT}" "$ROOT/.local/logs/smoke-exchanges.jsonl" | tee "$ROOT/.local/logs/edge.log"
log "rate limit (301 balance calls) and IP allowlist over HTTP"
"$ROOT/.tools/venv/bin/python" "$ROOT/infra/local/edge_check.py" limits \
  "http://127.0.0.1:${RELIER_WATCH_PORT}" | tee -a "$ROOT/.local/logs/edge.log"
log "Schemathesis against make dev + ledger check (log: .local/logs/fuzz.log)"
if ! "$ROOT/infra/local/fuzz.sh" "http://127.0.0.1:${RELIER_WATCH_PORT}" >"$ROOT/.local/logs/fuzz.log" 2>&1; then
  tail -n 80 "$ROOT/.local/logs/fuzz.log" >&2 || true
  exit 1
fi
tail -n 4 "$ROOT/.local/logs/fuzz.log" >&2
# The partner dashboard in a real browser (headless Chromium), against the same make dev.
log "browser test of the dashboard (screenshots: target/dashboard-screenshots/)"
if ! "$ROOT/.tools/venv/bin/python" "$ROOT/infra/local/browser_test.py" \
  "http://127.0.0.1:${RELIER_WATCH_PORT}" "$ROOT/target/dashboard-screenshots" | tee "$ROOT/.local/logs/browser.log"; then
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
# The previous bridge's long polls may still be parked in moto; a message sent now could be
# handed to one of them (and hidden for the visibility timeout). Let them expire first.
sleep $(( ${SQS_WAIT_SECS:-10} + 2 ))
SANDBOX_LATENCY_MS=4000 PROCESSING_LEASE_SECS=8 RECONCILER_INTERVAL_SECS=10 \
  "$ROOT/infra/local/dev.sh" >"$ROOT/.local/logs/dev-crash.log" 2>&1 &
dev_pid=$!
if ! SANDBOX_LATENCY_MS=4000 PROCESSING_LEASE_SECS=8 RECONCILER_INTERVAL_SECS=10 \
  python3 "$ROOT/infra/local/crash_test.py" "http://127.0.0.1:${RELIER_WATCH_PORT}" | tee "$ROOT/.local/logs/crash.log"; then
  tail -n 40 "$ROOT/.local/logs/dev-crash.log" >&2 || true
  exit 1
fi
stop_dev
