#!/usr/bin/env python3
"""Webhooks smoke test against a running `make dev` (issue 10), called by smoke.py.

A local receiver verifies EVERY delivery with the `standardwebhooks` PyPI package (the
reference implementation partners use). `relier-admin webhook set` points HAZ_001 at it; then
sync and async top-ups (success and failure) must each produce exactly one signed event, a
receiver answering 500 gets the retry 5 s later with the same webhook-id, and
`webhook test` delivers a ping. Needs the env of infra/local/env.sh (relier-admin runs with it).
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import time

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

CUSTOMER = "HAZ_001"


class Receiver:
    """127.0.0.1 HTTP server; `fail_next` answers 500 that many times first."""

    def __init__(self):
        self.secret: str | None = None
        self.events: list[dict] = []  # {id, type, body, verified}
        self.fail_next = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k: v for k, v in self.headers.items()}
                with outer.lock:
                    try:
                        payload = Webhook(outer.secret).verify(raw, headers)
                        verified = True
                    except (WebhookVerificationError, Exception) as e:  # noqa: BLE001
                        payload, verified = {"error": str(e)}, False
                    status = 204
                    if outer.fail_next > 0:
                        outer.fail_next -= 1
                        status = 500
                    outer.events.append({
                        "id": self.headers.get("webhook-id"), "type": payload.get("type"),
                        "body": payload, "verified": verified, "status": status,
                    })
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/relier-hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, pred, timeout=60.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                hits = [e for e in self.events if pred(e)]
            if hits:
                return hits
            time.sleep(0.3)
        return []

    def matching(self, pred):
        with self.lock:
            return [e for e in self.events if pred(e)]


def admin(*args: str) -> str:
    out = subprocess.run(
        ["cargo", "run", "-q", "-p", "relier-admin", "--", *args],
        capture_output=True, text=True, timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"relier-admin {' '.join(args)}: {out.stderr.strip()[-500:]}")
    return out.stdout


def secret_in(text: str) -> str | None:
    m = re.search(r"(whsec_[A-Za-z0-9+/=]+)", text)
    return m.group(1) if m else None


def run(call, check) -> None:
    rx = Receiver()
    out = admin("webhook", "set", CUSTOMER, "--url", rx.url)
    secret = secret_in(out) or secret_in(admin("webhook", "rotate-secret", CUSTOMER))
    check("webhook set prints a whsec_ secret (once)", secret is not None, out)
    rx.secret = secret

    def one_event(tx_id: str, etype: str, what: str):
        hits = rx.wait_for(lambda e: e["verified"] and e["body"].get("data", {}).get("id") == tx_id)
        time.sleep(2)  # room for a duplicate to show up
        got = rx.matching(lambda e: e["body"].get("data", {}).get("id") == tx_id)
        check(
            f"{what}: exactly one verified {etype}",
            len(hits) >= 1 and len(got) == 1 and got[0]["type"] == etype and got[0]["verified"],
            got,
        )
        return got[0] if got else None

    status, body = call("POST", "/api/enviadespensa/topup", body={"phone": "5500000000", "amount": 10})
    tx = body.get("transaction", {}) if isinstance(body, dict) else {}
    ev = one_event(tx.get("id"), "topup.succeeded", "sync success")
    if ev:
        s, view = call("GET", f"/api/transaction/{tx.get('id')}")
        check("event data is GET /api/transaction/{id}", ev["body"]["data"] == view.get("transaction"),
              (ev["body"]["data"], view))
    status, body = call("POST", "/api/enviadespensa/topup", body={"phone": "5500000001", "amount": 10})
    one_event(body.get("transaction", {}).get("id"), "topup.failed", "sync failure")
    for phone, etype in (("5500000000", "topup.succeeded"), ("5500000001", "topup.failed")):
        status, body = call("POST", "/api/enviadespensa/topup-async", body={"phone": phone, "amount": 10})
        one_event(body.get("transaction", {}).get("id"), etype, f"async {etype}")

    # a receiver answering 500 gets the next attempt 5 s later, same webhook-id
    with rx.lock:
        rx.fail_next = 1
    status, body = call("POST", "/api/enviadespensa/topup", body={"phone": "5500000000", "amount": 10})
    tx_id = body.get("transaction", {}).get("id")
    hits = rx.wait_for(lambda e: e["body"].get("data", {}).get("id") == tx_id and e["status"] == 204, 90)
    tries = rx.matching(lambda e: e["body"].get("data", {}).get("id") == tx_id)
    check("500 then retried with the same webhook-id",
          len(hits) == 1 and len(tries) == 2 and tries[0]["status"] == 500 and tries[0]["id"] == tries[1]["id"],
          tries)

    out = admin("webhook", "test", CUSTOMER)
    ping = rx.wait_for(lambda e: e["type"] == "ping" and e["verified"])
    check("webhook test delivers a verified ping", len(ping) == 1, out)
    out = admin("webhook", "deliveries", CUSTOMER)
    check("webhook deliveries lists them", "DELIVERED" in out and "topup.failed" in out, out)
    out = admin("audit", CUSTOMER, "--json")
    changes = [json.loads(line) for line in out.splitlines() if '"webhook.' in line]
    check("webhook set / rotate-secret are in the audit trail, never a secret",
          any(c["action"] == "webhook.set" and c["after"]["url"] == rx.url for c in changes)
          and "whsec_" not in out, changes)
    check("every delivery verified with standardwebhooks", all(e["verified"] for e in rx.events),
          [e for e in rx.events if not e["verified"]])
    rx.server.shutdown()


if __name__ == "__main__":
    raise SystemExit("run infra/local/smoke.py (it calls this module)")
