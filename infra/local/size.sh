#!/usr/bin/env bash
# `make size`: release build of the health function, print the binary size in MB.
# Prefers `cargo lambda build --release --arm64` (what is deployed) when the aarch64 Rust target is
# installed (rustup cannot download it on an offline machine); else a native release build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

bin=""
if command -v cargo-lambda >/dev/null && rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  echo "[size] cargo lambda build --release --arm64 -p health" >&2
  if cargo lambda build --release --arm64 -p health; then
    bin="target/lambda/health/bootstrap"
  else
    echo "[size] cargo lambda build failed; falling back to a native build" >&2
  fi
else
  echo "[size] aarch64-unknown-linux-gnu target or cargo-lambda not installed: native release build" >&2
fi
if [[ -z "$bin" ]]; then
  cargo build --release -p health
  bin="target/release/health"
fi
bytes="$(stat -c %s "$bin")"
awk -v b="$bytes" -v f="$bin" 'BEGIN { printf "%s: %.2f MB (%d bytes)\n", f, b / 1048576, b }'
