#!/usr/bin/env bash
# `make bench-sync`: the sync top-up use case in process against DynamoDB Local vs the raw
# DynamoDB requests it makes (shared/benches/sync/). Brings the stack up (reusing it); the
# bench creates and drops its own tables. Figures only. BENCH_SYNC_N sets top-ups per run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"
RELIER_SKIP_SETUP=1 "$ROOT/infra/local/stack.sh" up
export RUST_LOG="${RUST_LOG_BENCH:-error}"
nice -n 19 cargo bench -p relier-shared --bench sync --no-run
echo "[bench-sync] $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') memory; DynamoDB Local on :${RELIER_DDB_PORT}" >&2
cargo bench -p relier-shared --bench sync
