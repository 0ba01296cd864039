#!/usr/bin/env bash
# `make size`: release-build every function (strip, LTO, codegen-units=1, opt-level from
# Cargo.toml) and print the stripped binary sizes, largest first, against the 6 MB goal.
# Native x86_64 build; with ARM64=1 and the aarch64 target installed, `cargo lambda build
# --release --arm64` (what is deployed) instead. Builds run under `nice -n 19`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"

mapfile -t fns < <(find functions -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
pkgs=()
for f in "${fns[@]}"; do pkgs+=(-p "$f"); done

dir="target/release"
name_of() { echo "$dir/$1"; }
if [[ "${ARM64:-0}" == 1 ]] && command -v cargo-lambda >/dev/null \
  && rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  echo "[size] cargo lambda build --release --arm64 (${#fns[@]} functions)" >&2
  nice -n 19 cargo lambda build --release --arm64 "${pkgs[@]}"
  name_of() { echo "target/lambda/$1/bootstrap"; }
  arch="aarch64"
else
  echo "[size] cargo build --release (${#fns[@]} functions, native)" >&2
  nice -n 19 cargo build --release "${pkgs[@]}"
  arch="$(uname -m)"
fi

limit=$((6 * 1024 * 1024))
over=0
printf '\nstripped release binaries (%s), largest first; goal <= 6 MB (%d bytes)\n\n' "$arch" "$limit"
printf '| function | MB | bytes |\n|---|---|---|\n'
for f in "${fns[@]}"; do
  bin="$(name_of "$f")"
  printf '%s %s\n' "$(stat -c %s "$bin")" "$f"
done | sort -rn | while read -r bytes f; do
  awk -v b="$bytes" -v f="$f" 'BEGIN { printf "| %s | %.2f | %d |\n", f, b / 1048576, b }'
done
for f in "${fns[@]}"; do
  (($(stat -c %s "$(name_of "$f")") > limit)) && over=$((over + 1))
done
if ((over == 0)); then
  echo; echo "goal met: every function <= 6 MB"
else
  echo; echo "goal NOT met: $over function(s) over 6 MB"
fi
