"""Helpers for scripts that talk to a running `make dev` (crash_test.py, bench_http.py).

Standard library only. `create_account` makes a fresh sandbox partner through fixtures and
`relier-admin load-fixtures` (the ops tool), with no per-minute limit, and returns its headers.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, headers: dict | None = None, body=None, timeout: float = 60):
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            headers.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def instances(self) -> list[dict]:
        return self.call("GET", "/_local/instances")[1]

    def wait_ready(self, deadline_s: float = 600) -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            try:
                if self.call("GET", "/health", timeout=30)[0] in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(1)
        raise SystemExit(f"{self.base}/health did not answer within {deadline_s:.0f}s")

    def connection(self) -> http.client.HTTPConnection:
        """A keep-alive connection (one per client thread), as a partner's HTTP client would hold."""
        u = urllib.parse.urlsplit(self.base)
        return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def stored_status(tx_id: str) -> str | None:
    """The transaction's internal status in DynamoDB Local (partners see PROCESSING as PENDING)."""
    import boto3  # from the .tools venv, like sqs_bridge.py

    ddb = boto3.client(
        "dynamodb",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
        or f"http://127.0.0.1:{os.environ.get('RELIER_DDB_PORT', '8000')}",
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    item = ddb.get_item(
        TableName=os.environ.get("TRANSACTIONS_TABLE", "relier-transactions"),
        Key={"id": {"S": tx_id}},
        ConsistentRead=True,
    ).get("Item")
    return item["status"]["S"] if item else None


def admin(*args: str, **kw) -> subprocess.CompletedProcess:
    """relier-admin ARGS against the local stack (infra/local/env.sh's endpoints and ports)."""
    cmd = 'source infra/local/env.sh && exec cargo run -q -p relier-admin -- "$@"'
    return subprocess.run(["bash", "-c", cmd, "relier-admin", *args], cwd=ROOT, **kw)


def create_account(prefix: str, balance: str, max_requests_per_15min: int | None = None) -> dict:
    """A new partner account (sandbox fixtures via relier-admin): headers to call the API with.
    `max_requests_per_15min` raises the guides' 300-per-15-minutes window (benchmarks)."""
    customer = f"{prefix}_{secrets.token_hex(4).upper()}"
    key = f"{prefix.lower()}_{secrets.token_hex(16)}"
    fixtures = {
        "accounts": [{
            "customer_id": customer,
            "company_name": f"{prefix} test partner",
            "api_key_sha256": hashlib.sha256(key.encode()).hexdigest(),
            "balance": balance,
            "credit_limit": balance,
            "commission_rate": "0",
            "max_topups_per_minute": 0,
        }]
    }
    if max_requests_per_15min is not None:
        fixtures["accounts"][0]["max_requests_per_15min"] = max_requests_per_15min
    os.makedirs(os.path.join(ROOT, ".local"), exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=os.path.join(ROOT, ".local"), delete=False) as f:
        json.dump(fixtures, f)
    try:
        admin("load-fixtures", f.name, check=True, stdout=subprocess.DEVNULL)
    finally:
        os.unlink(f.name)
    return {"x-api-key": key, "x-customer-id": customer}
