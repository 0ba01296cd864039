#!/usr/bin/env bash
# Post-deploy check: the same partner-eye HTTP smoke checks `make test` runs locally
# (infra/local/smoke.py), against a deployed SANDBOX stack.
#
#   SMOKE_CUSTOMER_ID=SMOKE_001 SMOKE_API_KEY=... SMOKE_DISTRIBUTOR_SECRET=... \
#     infra/smoke-deployed.sh https://abc123.execute-api.us-east-1.amazonaws.com/v1
#
# The stack must run Mode=SANDBOX with TopupProvider=sandbox (the checks use the sandbox test
# numbers, e.g. 5500000001 always fails, and price 20 MXN at SandboxFxRate 18.52 = 1.08 USD), and
# the partner must exist (relier-admin partner create, commission 0, a few USD of balance, its key
# registered with the usage plan, a distributor secret). Credentials come from the environment,
# never from arguments; SMOKE_DISTRIBUTOR_ID defaults to SMOKE_CUSTOMER_ID.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BASE_URL   (credentials in SMOKE_CUSTOMER_ID, SMOKE_API_KEY, SMOKE_DISTRIBUTOR_SECRET)" >&2
  exit 2
fi
base="${1%/}"
for v in SMOKE_CUSTOMER_ID SMOKE_API_KEY SMOKE_DISTRIBUTOR_SECRET; do
  [[ -n "${!v:-}" ]] || { echo "$v is not set (the deployed sandbox partner's credentials)" >&2; exit 2; }
done
export SMOKE_DISTRIBUTOR_ID="${SMOKE_DISTRIBUTOR_ID:-$SMOKE_CUSTOMER_ID}"

# Refuse a production stack: the checks spend real balance and send real top-ups there.
mode="$(curl -s -m 30 "$base/health" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("mode",""))' || true)"
if [[ "$mode" != "SANDBOX" ]]; then
  echo "$base/health reports mode '${mode:-?}': smoke-deployed.sh only runs against a SANDBOX stack" >&2
  exit 2
fi
exec python3 "$ROOT/infra/local/smoke.py" "$base"
