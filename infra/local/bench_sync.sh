#!/usr/bin/env bash
# `make bench-sync`: the sync top-up use case in process against DynamoDB Local vs the raw
# DynamoDB requests it makes (infra/bench: crate relier-bench). Brings the stack up (reusing it); the
# bench creates and drops its own tables. Figures only. BENCH_SYNC_N sets top-ups per run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"
RELIER_SKIP_SETUP=1 "$ROOT/infra/local/stack.sh" up
export RUST_LOG="${RUST_LOG_BENCH:-error}"
nice -n 19 cargo build --release -p relier-bench --bin bench-sync
echo "[bench-sync] $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') memory; DynamoDB Local on :${RELIER_DDB_PORT}" >&2
target/release/bench-sync
