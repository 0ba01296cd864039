#!/usr/bin/env bash
# `make coldstart`: release-build every function (nice -n 19), bring the local stack up with the
# sandbox fixtures, and time 10 cold starts per function against a minimal Lambda Runtime API
# (infra/local/coldstart.py). COLDSTART_RUNS overrides the count. Figures only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

mapfile -t fns < <(find functions -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
pkgs=()
for f in "${fns[@]}"; do pkgs+=(-p "$f"); done
echo "[coldstart] cargo build --release (${#fns[@]} functions)" >&2
nice -n 19 cargo build --release "${pkgs[@]}"

"$ROOT/infra/local/stack.sh" up
cargo run -q -p relier-admin -- load-fixtures infra/local/fixtures.json
python3 "$ROOT/infra/local/coldstart.py"
