#!/usr/bin/env bash
# `make bench`: figures, never assertions on time. Brings the local stack up (reusing it),
# runs the async burst bench (1,000 top-ups accepted, queue drained by the worker, ledger
# checked) and the release size of the health function.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"
"$ROOT/infra/local/stack.sh" up
export RUST_LOG="${RUST_LOG_BENCH:-error}"
cargo bench -p relier-shared --bench burst
