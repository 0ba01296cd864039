#!/usr/bin/env python3
"""Crash test of a running `make dev`: functions killed mid-flight settle as they would on Lambda.

Run by `make test` against a make dev started with a slow sandbox provider and short timers
(SANDBOX_LATENCY_MS=4000, PROCESSING_LEASE_SECS=8, RECONCILER_INTERVAL_SECS=10):

GIVEN a fresh account (created here through fixtures, no per-minute limit)
WHEN  the topup-worker is killed (SIGKILL) during the provider call of an async top-up,
 AND  the topup function is killed during the provider call of a sync top-up
THEN  the sync caller gets a prompt 502 (not a hang), the same route answers again at once,
      new instances replace the dead ones, both transactions reach a terminal state within
      about two reconciler periods, the balance moved exactly once per top-up, the account has
      exactly one ledger line per top-up, and `relier-admin ledger-check` passes.

Usage: python3 infra/local/crash_test.py [BASE_URL]  (standard library only; exit 0 = all pass)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
import localapi  # noqa: E402

BASE = (sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9000").rstrip("/")
api = localapi.Api(BASE)
RECONCILE_EVERY = float(os.environ.get("RECONCILER_INTERVAL_SECS", "60"))
LEASE = float(os.environ.get("PROCESSING_LEASE_SECS", "300"))
LATENCY = float(os.environ.get("SANDBOX_LATENCY_MS", "0")) / 1000
failures: list[str] = []
passes: list[str] = []


def check(name: str, ok: bool, detail: object = "") -> None:
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else f"  -- {detail}"), flush=True)
    (passes if ok else failures).append(name)


def busy_instance(function: str, timeout: float = 20.0) -> dict | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for inst in api.instances():
            if inst["function"] == function and inst["state"] == "busy":
                return inst
        time.sleep(0.1)
    return None


def status_of(headers: dict, tx_id: str) -> str | None:
    s, b = api.call("GET", f"/api/transaction/{tx_id}", headers)
    return b.get("transaction", {}).get("status") if s == 200 and isinstance(b, dict) else None


def main() -> int:
    if LATENCY < 2 or LEASE > 30 or RECONCILE_EVERY > 30:
        raise SystemExit("crash_test needs SANDBOX_LATENCY_MS>=2000, PROCESSING_LEASE_SECS<=30, "
                         "RECONCILER_INTERVAL_SECS<=30 in make dev's environment")
    api.wait_ready()
    headers = localapi.create_account("CRASH", balance="1000")
    s, b = api.call("GET", "/api/balance", headers)
    before = Decimal(str(b["current_balance"]))
    check("fresh account starts at 1000", s == 200 and before == Decimal("1000"), (s, b))

    # Async: kill the worker while its provider call is in flight.
    ref = "CRASH_" + secrets.token_hex(6)
    s, b = api.call("POST", "/api/enviadespensa/topup-async", headers,
                    {"phone": "5500000000", "amount": 20, "reference": ref + "_A"})
    check("async top-up accepted (PENDING)", s == 200 and b["transaction"]["status"] == "PENDING", (s, b))
    async_id = b["transaction"]["id"]
    worker = busy_instance("topup-worker")
    claimed = False
    end = time.monotonic() + 10
    while worker is not None and not claimed and time.monotonic() < end:
        claimed = localapi.stored_status(async_id) == "PROCESSING"  # claimed: the provider call is next
        time.sleep(0.05)
    check("the worker claimed the top-up and is calling the provider", claimed, worker)
    if worker is None:
        return 1
    time.sleep(0.5)  # inside the provider call (SANDBOX_LATENCY_MS long)
    os.kill(worker["pid"], signal.SIGKILL)
    killed_at = time.monotonic()
    time.sleep(0.2)
    check("killed mid-flight: the top-up is still PROCESSING", localapi.stored_status(async_id) == "PROCESSING")

    # Sync: kill the topup function after its debit, during the provider call.
    sync_body = {"phone": "5500000000", "amount": 50, "reference": ref + "_S"}
    result: dict = {}

    def sync_call() -> None:
        t0 = time.monotonic()
        result["status"], result["body"] = api.call("POST", "/api/enviadespensa/topup", headers, sync_body)
        result["secs"] = time.monotonic() - t0

    caller = threading.Thread(target=sync_call)
    caller.start()
    debited = False
    end = time.monotonic() + 15
    while time.monotonic() < end and not debited:
        s, b = api.call("GET", "/api/balance", headers)
        debited = s == 200 and Decimal(str(b["current_balance"])) < before
        time.sleep(0.1)
    topup = busy_instance("topup", 5)
    check("sync top-up debited and in flight", debited and topup is not None, topup)
    if topup is None:
        return 1
    time.sleep(0.3)  # inside the provider call
    os.kill(topup["pid"], signal.SIGKILL)
    caller.join(20)
    check("the crashed sync call answers 502 at once (no hang)",
          result.get("status") == 502 and result.get("secs", 99) < LATENCY + 2, result)

    t0 = time.monotonic()
    s, b = api.call("POST", "/api/enviadespensa/topup", headers, sync_body, timeout=10)
    sync_id = b.get("transaction", {}).get("id") if isinstance(b, dict) else None
    check("the same route answers the retry at once (a new instance; replay of the same transaction)",
          s in (200, 202) and sync_id and time.monotonic() - t0 < 5, (s, b))
    check("killed mid-flight: the sync top-up is still PROCESSING (debited, not finalized)",
          sync_id is not None and localapi.stored_status(sync_id) == "PROCESSING")

    live = {(i["function"], i["pid"]) for i in api.instances()}
    check("the dead instances are gone and both functions have live ones",
          (worker["function"], worker["pid"]) not in live and (topup["function"], topup["pid"]) not in live
          and any(f == "topup-worker" for f, _ in live) and any(f == "topup" for f, _ in live), live)

    # Settle: lease expiry, then the next reconciler run (scheduled independently of the queue).
    budget = LEASE + 2 * RECONCILE_EVERY + 5
    final: dict[str, str | None] = {}
    while time.monotonic() - killed_at < budget:
        final = {tx: status_of(headers, tx) for tx in (async_id, sync_id)}
        if all(v in ("SUCCESS", "FAILED") for v in final.values()):
            break
        time.sleep(1)
    took = time.monotonic() - killed_at
    check(f"both transactions terminal within lease + 2 reconciler periods ({took:.0f}s of {budget:.0f}s)",
          all(v in ("SUCCESS", "FAILED") for v in final.values()), final)
    check("both settled SUCCESS (the sandbox provider delivered them)",
          final == {async_id: "SUCCESS", sync_id: "SUCCESS"}, final)

    costs = Decimal(0)
    for tx in (async_id, sync_id):
        _, b = api.call("GET", f"/api/transaction/{tx}", headers)
        costs += Decimal(str(b["transaction"]["amount_usd"]))
    s, b = api.call("GET", "/api/balance", headers)
    after = Decimal(str(b["current_balance"]))
    check("money moved exactly once per top-up (balance)", after == before - costs, (before, costs, after))

    out = localapi.admin("ledger-check", capture_output=True, text=True)
    mine = [line for line in out.stdout.splitlines() if f" {headers['x-customer-id']} " in line + " "]
    check("relier-admin ledger-check passes", out.returncode == 0, out.stdout[-500:] + out.stderr[-500:])
    check("exactly one ledger line per top-up (2), balance matches",
          len(mine) == 1 and mine[0].startswith("OK") and mine[0].split()[-1] == "2"
          and Decimal(mine[0].split()[3]) == after, mine)

    print(f"crash: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
