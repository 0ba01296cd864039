#!/usr/bin/env bash
# Schemathesis against a running `make dev` (all partner and distributor routes of
# openapi/openapi.json, the fuzzing account FUZZ_001's valid credentials), then the ledger:
# every balance change must belong to an admitted request. Bounded: a fixed seed and at most
# FUZZ_EXAMPLES test cases per operation. Usage: infra/local/fuzz.sh [BASE_URL]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=infra/local/env.sh
source "$ROOT/infra/local/env.sh"
BASE="${1:-http://127.0.0.1:${RELIER_WATCH_PORT}}"
PY="$ROOT/.tools/venv/bin/python"
OUT="$ROOT/.local/logs"
mkdir -p "$OUT"
log() { printf '[fuzz] %s\n' "$*" >&2; }

TOKEN="$("$PY" - "$BASE" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/api/distributor/login", method="POST",
    data=json.dumps({"customer_id": "FUZZ_001", "secret_key": "fuzz_secret_local_0123456789abcdef"}).encode(),
    headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=60))["access_token"])
PY
)"

AFTER="$("$PY" "$ROOT/infra/local/edge_check.py" last-seq FUZZ_001)"
log "schemathesis (seed 1, ${FUZZ_EXAMPLES:-12} examples per operation) against $BASE"
start=$SECONDS
# Run from .local/ (ignored): Schemathesis writes a .schemathesis/ cache in its working
# directory, and a new file in the workspace makes cargo lambda watch restart the functions.
cd "$OUT"
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/infra/local" SCHEMATHESIS_HOOKS=schemathesis_hooks \
  "$ROOT/.tools/venv/bin/schemathesis" run "$BASE/openapi.json" \
  --include-path-regex '^/api/(balance|limits|enviadespensa/|transaction/|distributor/)' \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_EXAMPLES:-12}" --seed 1 --workers 1 --no-shrink \
  --suppress-health-check all --generation-database none \
  --generation-with-security-parameters false \
  --request-timeout 30 --wait-for-schema 120 --no-color \
  -H "x-api-key: fuzz_local_0123456789abcdef" -H "x-customer-id: FUZZ_001" \
  -H "Authorization: Bearer $TOKEN" \
  --report har --report-dir "$OUT/schemathesis" --report-har-path "$OUT/schemathesis.har"
log "schemathesis finished in $((SECONDS - start)) s"

cd "$ROOT"
"$PY" "$ROOT/infra/local/edge_check.py" ledger "$OUT/schemathesis.har" FUZZ_001 "$AFTER"
cargo run -q -p relier-admin -- ledger-check
