#!/usr/bin/env python3
"""`make coldstart`: cold starts of every function's release binary, measured locally.

For each function, RUNS times: a fresh minimal Lambda Runtime API (this file, on an ephemeral
port) and a fresh process of target/release/<fn> with the local stack's environment. Measured:
  init   exec -> first GET /2018-06-01/runtime/invocation/next (config, SDK clients, DynamoDB
         warm-up: everything main() does before it polls);
  first  the first invocation: event handed out -> its response posted;
  second a second invocation of the same event on the same process (warm, for comparison).
Prints median and max per function. Figures only; nothing is asserted.

The events are events/<fn>.json, made live where they would otherwise be refused early: the
distributor tokens are signed with the local DISTRIBUTOR_JWT_SECRET, top-up references are
unique per start.
"""
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUNCTIONS = [
    f for f in sorted(os.listdir(os.path.join(ROOT, "functions")))
    if f in os.environ.get("COLDSTART_FUNCTIONS", f).split(",")
]
RUNS = int(os.environ.get("COLDSTART_RUNS", "10"))  # COLDSTART_FUNCTIONS=a,b: only those
PREFIX = "/2018-06-01/runtime"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(customer: str, typ: str) -> str:
    secret = os.environ["DISTRIBUTOR_JWT_SECRET"].strip().encode()
    now = int(time.time())
    ttl = 3600 if typ == "access" else 30 * 24 * 3600
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": customer, "typ": typ, "iat": now, "exp": now + ttl}).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def event_for(fn: str) -> bytes:
    event = json.load(open(os.path.join(ROOT, "events", f"{fn}.json")))
    bearer = f"Bearer {token('SMARTBIZ_001', 'access')}"
    for key in ("headers", "multiValueHeaders"):
        for name in list((event.get(key) or {}).keys()):
            if name.lower() == "authorization":
                event[key][name] = [bearer] if key == "multiValueHeaders" else bearer
    body = event.get("body")
    if isinstance(body, str) and body.startswith("{"):
        data = json.loads(body)
        if "refresh_token" in data:
            data["refresh_token"] = token("SMARTBIZ_001", "refresh")
        for ref in ("reference", "distributor_transaction_id"):
            if ref in data:
                data[ref] = f"COLD-{uuid.uuid4().hex[:12]}"
        event["body"] = json.dumps(data)
    return json.dumps(event).encode()


class RuntimeApi:
    """GET /next hands out `event` twice, then blocks until the process is killed."""

    def __init__(self, event: bytes):
        self.event = event
        self.times = {}
        self.errors = []
        self.served = 0
        self.pid = None
        self.lock = threading.Lock()
        self.done = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    return self.reply(404)
                now = time.perf_counter()
                with api.lock:
                    api.served += 1
                    n = api.served
                if n > 2:
                    api.done.wait(30)
                    return self.reply(500)
                api.times[f"next{n}"] = now
                if n == 1:
                    api.times["init_cpu"] = cpu_seconds(api.pid)
                deadline = int(time.time() * 1000) + 30_000
                self.reply(200, api.event, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": f"req-{n}-{uuid.uuid4()}",
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        "arn:aws:lambda:us-east-1:123456789012:function:coldstart",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                })

            def do_POST(self):
                now = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path.endswith("/response") or self.path.endswith("/error"):
                    n = 1 if "req-1-" in self.path else 2
                    api.times[f"resp{n}"] = now
                    if self.path.endswith("/error"):
                        api.errors.append(body[:300].decode(errors="replace"))
                elif self.path == f"{PREFIX}/init/error":
                    api.errors.append("init error: " + body[:300].decode(errors="replace"))
                    api.times["resp1"] = api.times["resp2"] = now
                self.reply(202, b"{}", {"Content-Type": "application/json"})

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the killed process's parked GET /next: nothing to report

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.done.set()
        self.server.shutdown()
        self.server.server_close()


def cpu_seconds(pid) -> float:
    """CPU time (all threads, ns precision from schedstat) the process has used so far."""
    for _ in range(100):
        if pid is not None:
            break
        time.sleep(0.001)
    total = 0
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        try:
            with open(f"{task_dir}/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def one_start(binary: str, fn: str):
    api = RuntimeApi(event_for(fn))
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
        "AWS_LAMBDA_FUNCTION_NAME": fn,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
    })
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api.pid = proc.pid
    try:
        deadline = started + 20
        while "resp2" not in api.times and time.perf_counter() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.0005)
    finally:
        proc.kill()
        _, err = proc.communicate()
        api.close()
    t = api.times
    if "resp2" not in t:
        raise RuntimeError(f"{fn}: no second response (errors {api.errors}; stderr {err[-400:]!r})")
    return {
        "init": (t["next1"] - started) * 1000,
        "init_cpu": t["init_cpu"] * 1000,
        "first": (t["resp1"] - t["next1"]) * 1000,
        "second": (t["resp2"] - t["next2"]) * 1000,
        "errors": api.errors,
    }


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    rows = []
    for fn in FUNCTIONS:
        binary = os.path.join(target, "release", fn)
        if not os.path.exists(binary):
            print(f"[coldstart] {binary} missing (cargo build --release): skipped", file=sys.stderr)
            continue
        runs = [one_start(binary, fn) for _ in range(RUNS)]
        errors = sorted({e for r in runs for e in r["errors"]})
        row = {"fn": fn}
        for key in ("init", "init_cpu", "first", "second"):
            values = [r[key] for r in runs]
            row[key] = (statistics.median(values), max(values))
        row["errors"] = errors
        rows.append(row)
        print(f"[coldstart] {fn}: init median {row['init'][0]:.1f} ms", file=sys.stderr)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\ncold starts, {RUNS} per function (ms; median / max); load average {load}\n")
    print("| function | init (exec -> first /next) | CPU used by init | first invocation | second invocation |")
    print("|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["init"][0]):
        cells = " | ".join(f"{r[k][0]:.1f} / {r[k][1]:.1f}" for k in ("init", "init_cpu", "first", "second"))
        print(f"| {r['fn']} | {cells} |")
    worst = max(r["init"][0] for r in rows)
    print(f"\nslowest init median: {worst:.1f} ms (goal <= 15 ms: {'met' if worst <= 15 else 'NOT met'})")
    for r in rows:
        for e in r["errors"]:
            print(f"note: {r['fn']} answered an invocation with an error: {e}")


if __name__ == "__main__":
    main()
