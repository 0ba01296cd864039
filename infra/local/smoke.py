#!/usr/bin/env python3
"""Partner-eye smoke test of a running `make dev` (http://127.0.0.1:9000 by default).

Talks HTTP exactly as the partner guides do (seed curl examples), with the sandbox fixture
keys. Standard library only. Exit code 0 when every check passes. Used by `make test` (after the
unit and integration tests) and by hand: `python3 infra/local/smoke.py [BASE_URL]`.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9000").rstrip("/")
HAZ = {"x-api-key": "haz_prod_2025", "x-customer-id": "HAZ_001"}
failures = []
passes = []


def call(method, path, headers=None, body=None, timeout=60):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f"  -- {detail}"))
    (passes if ok else failures).append(name)


def wait_ready(deadline_s=600):
    start = time.time()
    while time.time() - start < deadline_s:
        try:
            status, body = call("GET", "/health", timeout=120)
            if status in (200, 503):
                return status, body
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(2)
    raise SystemExit(f"{BASE}/health did not answer within {deadline_s}s")


def main():
    status, body = wait_ready()
    check("GET /health is 200 OK", status == 200 and body.get("status") == "OK", body)
    check("health has the seed fields", set(body) >= {"status", "timestamp", "uptime", "mode", "services"}, body)
    check("health database connected", body.get("services", {}).get("database", {}).get("connected") is True, body)

    status, body = call("GET", "/api/balance", HAZ)
    check("GET /api/balance 200", status == 200, (status, body))
    check(
        "balance body is the seed's",
        isinstance(body, dict)
        and set(body) == {"success", "customer_id", "company_name", "current_balance", "credit_limit", "currency"}
        and body["customer_id"] == "HAZ_001" and body["currency"] == "USD",
        body,
    )
    before = body.get("current_balance") if isinstance(body, dict) else None

    status, body = call("GET", "/api/balance")
    check("no credentials -> 401", status == 401 and body.get("error") == "Invalid API credentials", (status, body))

    ref = "SMOKE_" + uuid.uuid4().hex[:12]
    topup = {"phone": "5566374683", "amount": 20, "reference": ref}
    status, body = call("POST", "/api/enviadespensa/topup", HAZ, topup)
    check("seed top-up 200 SUCCESS", status == 200 and body.get("transaction", {}).get("status") == "SUCCESS", (status, body))
    tx = body.get("transaction", {}) if isinstance(body, dict) else {}
    check("20 MXN at 18.52 costs 1.08 USD", tx.get("amount_usd") == 1.08 and tx.get("exchange_rate") == 18.52, tx)
    check(
        "billing before/after",
        isinstance(body, dict)
        and before is not None
        and abs(body["billing"]["balance_before_usd"] - body["billing"]["balance_after_usd"] - 1.08) < 1e-9,
        body,
    )
    tx_id = tx.get("id", "")

    status, again = call("POST", "/api/enviadespensa/topup", HAZ, topup)
    check("same reference replays the same transaction", status == 200 and again.get("transaction", {}).get("id") == tx_id, again)
    status, conflict = call("POST", "/api/enviadespensa/topup", HAZ, dict(topup, amount=50))
    check("same reference, other amount -> 409", status == 409, (status, conflict))

    status, body = call("GET", f"/api/transaction/{tx_id}")
    check("GET /api/transaction/{id} SUCCESS", status == 200 and body.get("transaction", {}).get("status") == "SUCCESS", (status, body))
    status, body = call("GET", "/api/transaction/RLRDOESNOTEXIST00000000000000")
    check("unknown transaction -> 404", status == 404, (status, body))

    status, body = call("POST", "/api/enviadespensa/topup", HAZ, {"phone": "5566374683", "amount": 25})
    check("amount 25 -> 400 Invalid product amount", status == 400 and body.get("requested_amount") == 25, (status, body))
    status, body = call("POST", "/api/enviadespensa/topup", HAZ, b"{not json")
    check("malformed JSON -> 400", status == 400 and body.get("success") is False, (status, body))

    status, body = call("POST", "/api/enviadespensa/topup", HAZ, {"phone": "5500000001", "amount": 10})
    check("5500000001 fails and is refunded", status == 500 and body.get("transaction", {}).get("status") == "FAILED", (status, body))

    status, body = call("POST", "/api/enviadespensa/topup-async", HAZ, {"phone": "5500000000", "amount": 10, "reference": ref + "_A"})
    check("topup-async 200 PENDING", status == 200 and body.get("transaction", {}).get("status") == "PENDING", (status, body))
    url = body.get("check_status_url", "") if isinstance(body, dict) else ""
    final = None
    for _ in range(60):
        s, b = call("GET", url)
        final = b.get("transaction", {}).get("status") if isinstance(b, dict) else None
        if final in ("SUCCESS", "FAILED"):
            break
        time.sleep(1)
    check("async top-up reaches SUCCESS through the queue", final == "SUCCESS", final)

    # Distributor API (seed 002): JWT login with the SmartBiz guide's secret, then a purchase.
    status, body = call("POST", "/api/distributor/login", body={
        "customer_id": "SMARTBIZ_001", "secret_key": "SBT_545970e108537acd351c88ef1d8f572e52c6422058204102"})
    check("distributor login 200 with tokens", status == 200 and body.get("token_type") == "Bearer", (status, body))
    bearer = {"Authorization": "Bearer " + (body.get("access_token", "") if isinstance(body, dict) else "")}
    status, body = call("GET", "/api/distributor/get_balance", bearer)
    check("distributor get_balance 200", status == 200 and body.get("currency") == "USD", (status, body))
    status, body = call("POST", "/api/distributor/product_purchase", bearer, {
        "distributor_transaction_id": ref + "_D", "phone_number": "5537686660",
        "product_id": "MOVISTAR_TAE", "amount": 10, "operator": "MOVISTAR"})
    check("distributor purchase approved (00)", status == 200 and body.get("response_code") == "00", (status, body))
    status, body = call("GET", "/api/distributor/get_balance")
    check("distributor without token -> 401 (05)", status == 401 and body.get("response_code") == "05", (status, body))

    # Webhooks (issue 10): a local receiver verifies every delivery with `standardwebhooks`.
    import smoke_webhooks

    smoke_webhooks.run(lambda m, p, headers=None, body=None: call(m, p, headers or HAZ, body), check)

    print(f"smoke: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
