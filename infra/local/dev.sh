#!/usr/bin/env bash
# `make dev`: local stack + fixtures + the API on 127.0.0.1:$RELIER_WATCH_PORT (lambda_local.py:
# API Gateway + Lambda with several instances per function, crashes and timeouts as in AWS) +
# SQS/schedule bridge. RELEASE=1 runs release builds. Ctrl-C (or SIGTERM) stops the bridge, the
# API and every function instance, and the stack services that this run started.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

STACK="$ROOT/infra/local/stack.sh"
RUN_DIR="$ROOT/.local/dev"
mkdir -p "$RUN_DIR"

log() { printf '[dev] %s\n' "$*" >&2; }

# Did this run start the stack? Only then does it stop it.
own_stack=0
if ! ls "$ROOT"/.local/pids/*.pid >/dev/null 2>&1; then
  own_stack=1
fi

api_pid=""
bridge_pid=""
cleaning=0

# stop_group PID SIGNAL: the process was started with setsid, so PID is also its process group.
stop_group() {
  local pid="$1" sig="$2" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -s KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  ((cleaning)) && return
  cleaning=1
  trap - INT TERM EXIT
  log "shutting down"
  stop_group "$bridge_pid" TERM
  stop_group "$api_pid" TERM
  rm -f "$RUN_DIR/api.pid" "$RUN_DIR/bridge.pid"
  if ((own_stack)); then
    "$STACK" down || true
  else
    log "stack was already running before make dev: leaving it up"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn PIDFILE CMD...: run CMD in a new session (own process group, so a terminal Ctrl-C reaches
# only this script, whose trap stops it); sets SPAWNED_PID. Output goes to this terminal.
# (Not called as $(spawn ...): the child would hold the command substitution's pipe open.)
SPAWNED_PID=""
spawn() {
  local pidfile="$1"
  shift
  rm -f "$pidfile"
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && break
    sleep 0.1
  done
  SPAWNED_PID="$(cat "$pidfile")"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_in_use "$RELIER_WATCH_PORT"; then
  log "port $RELIER_WATCH_PORT (RELIER_WATCH_PORT) is taken: another make dev or watch? stop it or export another RELIER_WATCH_PORT"
  exit 1
fi

"$STACK" up

log "loading fixtures (infra/local/fixtures.json)"
cargo run -q -p relier-admin -- load-fixtures infra/local/fixtures.json

# Build every function up front: the API runs the binaries (rebuild in another terminal and the
# API picks the new ones up).
if [[ "${RELEASE:-0}" != "0" && -n "${RELEASE:-}" ]]; then
  export RELEASE=1
  log "building the functions (nice cargo build --release --workspace --bins)"
  nice -n 10 cargo build --release --workspace --bins
else
  export RELEASE=0
  log "building the functions (cargo build --workspace --bins)"
  cargo build --workspace --bins
fi

log "starting the API (lambda_local.py) on http://127.0.0.1:${RELIER_WATCH_PORT}"
spawn "$RUN_DIR/api.pid" python3 "$ROOT/infra/local/lambda_local.py"
api_pid="$SPAWNED_PID"

log "starting SQS bridge (topup-worker) + reconciler schedule"
spawn "$RUN_DIR/bridge.pid" python3 "$ROOT/infra/local/sqs_bridge.py"
bridge_pid="$SPAWNED_PID"

cat >&2 <<MSG
[dev] ready. Try:
[dev]   curl -s http://127.0.0.1:${RELIER_WATCH_PORT}/health
[dev]   curl -s -H 'x-api-key: haz_prod_2025' -H 'x-customer-id: HAZ_001' http://127.0.0.1:${RELIER_WATCH_PORT}/api/balance
[dev] Ctrl-C to stop.
MSG

# Exit (and clean up) as soon as the API or the bridge dies, or on Ctrl-C.
while kill -0 "$api_pid" 2>/dev/null && kill -0 "$bridge_pid" 2>/dev/null; do
  sleep 1
done
log "the API (lambda_local.py) or the SQS bridge exited"
exit 1
