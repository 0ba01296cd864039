#!/usr/bin/env python3
"""Partner-eye smoke test of a running `make dev` (http://127.0.0.1:9000 by default).

Talks HTTP exactly as the partner guides do (seed curl examples), with the sandbox fixture
keys. Standard library only. Exit code 0 when every check passes. Used by `make test` (after the
unit and integration tests) and by hand: `python3 infra/local/smoke.py [BASE_URL]`.
Against a deployed sandbox stack (infra/smoke-deployed.sh) the credentials come from the
environment: SMOKE_CUSTOMER_ID, SMOKE_API_KEY, SMOKE_DISTRIBUTOR_SECRET (defaults: the fixtures).
"""

import csv
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9000").rstrip("/")
CUSTOMER = os.environ.get("SMOKE_CUSTOMER_ID", "HAZ_001")
HAZ = {"x-api-key": os.environ.get("SMOKE_API_KEY", "haz_prod_2025"), "x-customer-id": CUSTOMER}
DISTRIBUTOR = os.environ.get("SMOKE_DISTRIBUTOR_ID", "SMARTBIZ_001")
DISTRIBUTOR_SECRET = os.environ.get(
    "SMOKE_DISTRIBUTOR_SECRET", "SBT_545970e108537acd351c88ef1d8f572e52c6422058204102")
failures = []
passes = []
# With SMOKE_RECORD=FILE every exchange is written there (JSON lines) for the contract check
# (infra/local/edge_check.py validates each against openapi/openapi.json).
RECORD = os.environ.get("SMOKE_RECORD")


def record(method, path, status, headers, body):
    if RECORD:
        with open(RECORD, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": method, "path": path, "status": status,
                                "headers": dict(headers.items()), "body": body}) + "\n")


def call(method, path, headers=None, body=None, timeout=60):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            out = json.loads(resp.read() or b"null")
            record(method, path, resp.status, resp.headers, out)
            return resp.status, out
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            out = json.loads(raw)
        except ValueError:
            out = raw.decode(errors="replace")
        record(method, path, e.code, e.headers, out)
        return e.code, out


def check(name, ok, detail=""):
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f"  -- {detail}"))
    (passes if ok else failures).append(name)


def get_raw(path, headers=None):
    req = urllib.request.Request(BASE + path, method="GET", headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", errors="replace")


SMARTBIZ = {"x-api-key": "smartbiz_prod_7d086ce74101615476169835689efbcd", "x-customer-id": "SMARTBIZ_001"}
SMARTBIZ_RECONCILE = {"x-reconcile-key": "smartbiz_reconcile_local_0123456789abcdef"}


def reconciliation(ref):
    """SmartBiz guide: reconciliation CSV export, plus the partner listing and statement."""
    today = time.strftime("%Y-%m-%d", time.gmtime())
    tricky = f'{ref},"quoted" ref'
    status, body = call("POST", "/api/enviadespensa/topup", SMARTBIZ,
                        {"phone": "5537686660", "amount": 10, "reference": tricky})
    check("SmartBiz top-up with a comma/quote reference", status == 200, (status, body))
    wire = f"WIRE {ref}, \"urgent\"\nsecond line"
    if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        # a credit through the ops tool (local stack only): its reference has a newline too
        done = subprocess.run(["cargo", "run", "-q", "-p", "relier-admin", "--", "credit", "SMARTBIZ_001",
                               "--usd", "0.01", "--reference", wire, "--note", "smoke"],
                              capture_output=True, text=True)
        check("relier-admin credit", done.returncode == 0, done.stderr)
    else:
        wire = None
    query = f"/api/admin/reconcile/export?date_from={today}&date_to={today}"
    status, headers, text = get_raw(query, SMARTBIZ_RECONCILE)
    headers = {k.lower(): v for k, v in headers.items()}
    check("reconcile export 200 text/csv", status == 200 and headers.get("content-type", "").startswith("text/csv"),
          (status, headers, text[:300]))
    check("reconcile export is an attachment", headers.get("content-disposition", "").startswith("attachment; filename="),
          headers)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    refs = [r.get("reference") for r in rows]
    check("CSV keeps a reference with comma and quotes", tricky in refs, refs[-5:])
    if wire:
        check("CSV keeps a reference with a newline", wire in refs, refs[-5:])
    check("CSV has only SmartBiz rows", rows and all(r["customer_id"] == "SMARTBIZ_001" for r in rows),
          {r.get("customer_id") for r in rows})
    needed = {"transaction_id", "created_at", "processed_at", "customer_id", "company", "phone", "amount_mxn",
              "amount_usd", "exchange_rate", "commission", "status", "reference", "operator_transaction_id",
              "provider", "response_time_ms", "balance_before_usd", "balance_after_usd", "kind"}
    check("CSV has the listed columns", rows and needed <= set(rows[0]), list(rows[0]) if rows else None)
    if rows:
        cents = lambda s: round(float(s) * 100)
        total = sum(cents(r["delta_usd"]) for r in rows)
        check("CSV reconciles to the cent", cents(rows[0]["balance_before_usd"]) + total == cents(rows[-1]["balance_after_usd"]),
              (rows[0]["balance_before_usd"], total, rows[-1]["balance_after_usd"]))
    status, _, _ = get_raw(query)
    check("export without x-reconcile-key -> 401", status == 401, status)
    status, _, _ = get_raw(query, {"x-reconcile-key": "haz_prod_2025"})
    check("export with a wrong key -> 401", status == 401, status)
    status, _, text = get_raw("/api/admin/reconcile/export?date_from=2025-01-01&date_to=2025-12-31", SMARTBIZ_RECONCILE)
    check("export over 93 days -> 400", status == 400 and '"Validation failed"' in text, (status, text))
    status, _, text = get_raw("/api/admin/reconcile/export?date_from=2025-10-31&date_to=2025-10-01", SMARTBIZ_RECONCILE)
    check("export from > to -> 400", status == 400, (status, text))

    # This run made at least two SmartBiz top-ups: a page of one has a next page.
    status, body = call("GET", "/api/transactions?limit=1", SMARTBIZ)
    cursor = body.get("next_cursor") if isinstance(body, dict) else None
    check("GET /api/transactions newest first with next_cursor",
          status == 200 and len(body.get("transactions", [])) == 1 and cursor, (status, body))
    if cursor:
        status, page2 = call("GET", f"/api/transactions?limit=1&cursor={urllib.parse.quote(cursor)}", SMARTBIZ)
        first, second = body["transactions"][0], (page2.get("transactions") or [{}])[0]
        check("GET /api/transactions next page is older and different",
              status == 200 and second.get("id") != first["id"] and second.get("created_at", "") <= first["created_at"],
              (status, page2))
    status, body = call("GET", f"/api/transactions?reference={urllib.parse.quote(tricky)}", SMARTBIZ)
    check("GET /api/transactions?reference finds it", status == 200 and body.get("count") == 1, (status, body))
    status, body = call("GET", f"/api/statement?date_from={today}&date_to={today}", SMARTBIZ)
    ok = status == 200 and isinstance(body, dict)
    if ok:
        total = sum(round(l["amount_usd"] * 100) for l in body["lines"])
        ok = round(body["opening_balance_usd"] * 100) + total == round(body["closing_balance_usd"] * 100)
    check("GET /api/statement: opening + lines == closing", ok, (status, body))


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
        and body["customer_id"] == CUSTOMER and body["currency"] == "USD",
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
        "customer_id": DISTRIBUTOR, "secret_key": DISTRIBUTOR_SECRET})
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

    reconciliation(ref)

    # Webhooks (issue 10): a local receiver verifies every delivery with `standardwebhooks`.
    import smoke_webhooks

    smoke_webhooks.run(lambda m, p, headers=None, body=None: call(m, p, headers or HAZ, body), check)

    print(f"smoke: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
