#!/usr/bin/env python3
"""`make bench-http N=200`: sync top-ups over HTTP against a running `make dev` (figures only).

Creates its own partner account (fixtures through relier-admin; no per-minute limit, a
15-minute request window far above the guides' 300), warms the
function instances up (not measured), then:
  1. N sequential top-ups (one client, keep-alive connection),
  2. N top-ups from 16 concurrent clients (one keep-alive connection each),
and prints p50/p95/p99 latency and top-ups/s for each. Afterwards it checks the money: every
top-up answered 200 SUCCESS, the account's balance is its opening balance minus the sum of the
charged amounts, it has one ledger line per top-up, and `relier-admin ledger-check` passes.

Usage: python3 infra/local/bench_http.py [--n 200] [--clients 16] [--base http://127.0.0.1:9000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))
import localapi  # noqa: E402

OPENING = Decimal("1000000")


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return float("nan")
    k = max(0, min(len(sorted_ms) - 1, round(p / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[k]


class Client:
    def __init__(self, api: localapi.Api, headers: dict, tag: str):
        self.api = api
        self.conn = api.connection()
        self.headers = dict(headers, **{"Content-Type": "application/json"})
        self.tag = tag
        self.n = 0
        self.latencies: list[float] = []
        self.charged = Decimal(0)
        self.errors: list[str] = []

    def topup(self, record: bool = True) -> None:
        self.n += 1
        body = json.dumps({"phone": "5500000000", "amount": 10, "reference": f"{self.tag}_{self.n}"})
        t0 = time.perf_counter()
        try:
            self.conn.request("POST", "/api/enviadespensa/topup", body=body, headers=self.headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except OSError as e:  # reconnect once, count it as an error
            self.conn.close()
            self.conn = self.api.connection()
            self.errors.append(f"{type(e).__name__}: {e}")
            return
        ms = (time.perf_counter() - t0) * 1000
        try:
            tx = json.loads(raw)["transaction"]
            ok = resp.status == 200 and tx["status"] == "SUCCESS"
        except (ValueError, KeyError, TypeError):
            ok, tx = False, {}
        if not ok:
            self.errors.append(f"HTTP {resp.status}: {raw[:200]!r}")
            return
        self.charged += Decimal(str(tx["amount_usd"]))
        if record:
            self.latencies.append(ms)


def run(clients: list[Client], per_client: list[int]) -> float:
    def work(c: Client, n: int) -> None:
        for _ in range(n):
            c.topup()

    threads = [threading.Thread(target=work, args=(c, n)) for c, n in zip(clients, per_client)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def report(name: str, clients: list[Client], secs: float) -> str:
    ms = sorted(x for c in clients for x in c.latencies)
    errors = sum(len(c.errors) for c in clients)
    line = (f"{name:<26} n={len(ms):<5} p50 {percentile(ms, 50):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms  "
            f"p99 {percentile(ms, 99):6.1f} ms  mean {statistics.fmean(ms) if ms else float('nan'):6.1f} ms  "
            f"{len(ms) / secs:6.1f} top-ups/s  errors {errors}")
    print(line, flush=True)
    return line


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--base", default=f"http://127.0.0.1:{os.environ.get('RELIER_WATCH_PORT', '9000')}")
    args = ap.parse_args()
    api = localapi.Api(args.base)
    api.wait_ready(30)
    # No per-minute cap and a window far above the guides' 300 requests per 15 minutes.
    headers = localapi.create_account("BENCH", balance=str(OPENING), max_requests_per_15min=1_000_000)
    run_id = headers["x-customer-id"]
    info = api.call("GET", "/_local/info")[1]
    build = os.path.basename(info["bin_dir"]) if isinstance(info, dict) else "?"
    print(f"bench-http: {args.base} ({build} builds, up to {info.get('concurrency', '?')} instances per "
          f"function), account {run_id}, N={args.n}, {args.clients} concurrent clients, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)

    # Warm-up (not measured): every instance the concurrent phase will use gets its cold start.
    warm = [Client(api, headers, f"{run_id}_W{i}") for i in range(args.clients)]
    for c in warm:
        c.conn.connect()
    run(warm, [3] * len(warm))
    for c in warm:
        c.latencies.clear()

    seq = [Client(api, headers, f"{run_id}_S")]
    secs = run(seq, [args.n])
    report("sequential (1 client)", seq, secs)

    conc = [Client(api, headers, f"{run_id}_C{i}") for i in range(args.clients)]
    share = [args.n // args.clients + (1 if i < args.n % args.clients else 0) for i in range(args.clients)]
    secs = run(conc, share)
    report(f"concurrent ({args.clients} clients)", conc, secs)

    everyone = warm + seq + conc
    errors = [e for c in everyone for e in c.errors]
    done = sum(c.n for c in everyone) - len(errors)
    charged = sum((c.charged for c in everyone), Decimal(0))
    s, b = api.call("GET", "/api/balance", headers)
    balance = Decimal(str(b["current_balance"])) if s == 200 else None
    out = localapi.admin("ledger-check", capture_output=True, text=True)
    mine = [ln for ln in out.stdout.splitlines() if f" {run_id} " in ln]
    entries = int(mine[0].split()[-1]) if mine and mine[0].startswith("OK") else None
    money_ok = (not errors and balance == OPENING - charged and entries == done and out.returncode == 0)
    print(f"money: {done} top-ups SUCCESS, charged {charged} USD, balance {balance} (expected "
          f"{OPENING - charged}), ledger lines {entries}, ledger-check "
          f"{'passed' if out.returncode == 0 else 'FAILED'} -> {'exact' if money_ok else 'NOT EXACT'}")
    for e in errors[:5]:
        print(f"  error: {e}")
    return 0 if money_ok else 1


if __name__ == "__main__":
    sys.exit(main())
