#!/usr/bin/env python3
"""Dev-only stand-in for API Gateway (REST, Lambda proxy) + the Lambda service. Never deployed.

Started by infra/local/dev.sh on 127.0.0.1:$RELIER_WATCH_PORT. It behaves like Lambda where the
local stack used to differ (cargo lambda watch kept one process per function, never replaced a
dead one and hung every later request to it):

* Instances: each function runs as up to LAMBDA_CONCURRENCY (default 4) processes of its binary
  (target/debug, or target/release with RELEASE=1), each speaking the Lambda Runtime API to its own
  small server here. An invocation goes to an idle instance; when none is idle a new one starts
  (a cold start), as Lambda scales out. One instance per function is started up front.
* Crashes: an instance that dies fails the invocation it was running (Runtime.ExitError: API
  clients get 502, the SQS bridge leaves the batch on the queue) and is logged loudly; the next
  invocation starts a fresh instance. An instance that dies before taking work 3 times in a row
  marks the function broken: its invocations fail at once (never hang) until the binary changes.
* Timeouts: an invocation running longer than the function's Timeout (template.yaml) fails with
  Sandbox.Timedout and its instance is killed, as Lambda resets the execution environment.
  API Gateway itself answers 504 after 29 s.
* Reload: when a binary changes (`cargo build` in another terminal), idle instances are retired
  and new invocations start the new build (busy ones finish first).

Endpoints: the routes of Cargo.toml's [workspace.metadata.lambda.watch.router] (REST proxy events,
binary bodies base64-encoded); the Invoke API POST /2015-03-31/functions/NAME/invocations (used
by sqs_bridge.py); GET /_local/instances (JSON: every instance, its pid and state; tests use it);
GET /_local/info (binaries used, LAMBDA_CONCURRENCY, each function's Timeout).
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

import lambda_template

ROOT = lambda_template.ROOT
HOST = "127.0.0.1"
PORT = int(os.environ.get("RELIER_WATCH_PORT", "9000"))
BIN_DIR = os.environ.get("LAMBDA_BIN_DIR") or os.path.join(
    ROOT, "target", "release" if os.environ.get("RELEASE", "") not in ("", "0") else "debug"
)
CONCURRENCY = max(1, int(os.environ.get("LAMBDA_CONCURRENCY", "4")))
API_GATEWAY_TIMEOUT = 29.0
INIT_FAILURES_BEFORE_BROKEN = 3
ACCOUNT = "123456789012"
REGION = os.environ.get("AWS_REGION", "us-east-1")
stopping = threading.Event()


def log(msg: str) -> None:
    now = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[lambda {now}] {msg}", file=sys.stderr, flush=True)


def loud(msg: str) -> None:
    log("!!! " + msg)


class Invocation:
    def __init__(self, payload: bytes):
        self.id = str(uuid.uuid4())
        self.payload = payload
        self.done = threading.Event()
        self.ok = False
        self.body = b""
        self.deadline = 0.0  # set when an instance takes it

    def complete(self, ok: bool, body: bytes) -> bool:
        if self.done.is_set():
            return False
        self.ok, self.body = ok, body
        self.done.set()
        return True

    def fail(self, error_type: str, message: str) -> bool:
        return self.complete(False, json.dumps({"errorType": error_type, "errorMessage": message}).encode())


class Function:
    def __init__(self, spec: lambda_template.Function):
        self.spec = spec
        self.name = spec.name
        self.binary = os.path.join(BIN_DIR, spec.name)
        self.cond = threading.Condition()
        self.queue: collections.deque[Invocation] = collections.deque()
        self.instances: list[Instance] = []
        self.idle = 0
        self.starting = 0
        self.seq = 0
        self.init_failures = 0
        self.broken = ""
        self.mtime = self._mtime()

    def _mtime(self) -> float:
        try:
            return os.stat(self.binary).st_mtime
        except OSError:
            return 0.0

    def invoke(self, payload: bytes, wait: float) -> Invocation:
        """Queue an invocation, scale out if no instance is free, wait up to `wait` seconds."""
        inv = Invocation(payload)
        with self.cond:
            if self.broken:
                inv.fail("Runtime.Unavailable", self.broken)
                return inv
            self.queue.append(inv)
            self._scale_locked()
            self.cond.notify()
        if not inv.done.wait(wait):
            with self.cond:
                if inv in self.queue:  # never started: drop it, as a throttled/abandoned call
                    self.queue.remove(inv)
        return inv

    def _scale_locked(self) -> None:
        live = sum(1 for i in self.instances if not i.retired)
        if len(self.queue) > self.idle + self.starting and live < CONCURRENCY:
            self._spawn_locked()

    def _spawn_locked(self) -> None:
        self.seq += 1
        inst = Instance(self, self.seq)
        self.instances.append(inst)
        self.starting += 1
        try:
            inst.start()
        except OSError as e:
            self.instances.remove(inst)
            self.starting -= 1
            self._mark_broken_locked(f"{self.name}: cannot start {self.binary}: {e}")

    def _mark_broken_locked(self, why: str) -> None:
        self.broken = why + " (requests to it fail until the binary is rebuilt)"
        loud(f"FUNCTION {self.name} IS BROKEN: {self.broken}")
        while self.queue:
            self.queue.popleft().fail("Runtime.Unavailable", self.broken)

    def on_exit(self, inst: Instance, rc: int) -> None:
        with self.cond:
            if inst in self.instances:
                self.instances.remove(inst)
            if inst.state == "starting":
                self.starting -= 1
            elif inst.state == "idle":
                self.idle -= 1
            was = inst.state
            inst.state = "dead"
            running = inst.current
            inst.current = None
            self.cond.notify_all()
            if stopping.is_set() or inst.retired:
                return
            how = f"signal {-rc}" if rc < 0 else f"exit code {rc}"
            if running is not None:
                if running.fail("Runtime.ExitError", f"RequestId: {running.id} Error: Runtime exited with {how}"):
                    loud(f"{self.name} instance #{inst.seq} (pid {inst.pid}) died ({how}) while running "
                         f"request {running.id}: that invocation failed (Runtime.ExitError)")
            elif not inst.timed_out:
                loud(f"{self.name} instance #{inst.seq} (pid {inst.pid}) died ({how}) while {was}")
            if was == "starting" and not inst.timed_out:
                self.init_failures += 1
                if self.init_failures >= INIT_FAILURES_BEFORE_BROKEN:
                    self._mark_broken_locked(f"{self.name} died during init {self.init_failures} times in a row ({how})")
                    return
            # Lambda starts a new execution environment: keep one warm, and serve what is queued.
            if not self.instances or len(self.queue) > self.idle + self.starting:
                log(f"{self.name}: starting a replacement instance")
                self._spawn_locked()

    def next_invocation(self, inst: Instance) -> Invocation | None:
        """Block until there is work for `inst` (None when it died, retired, or we stop)."""
        with self.cond:
            if inst.state == "starting":
                self.starting -= 1
                self.init_failures = 0
                log(f"{self.name} instance #{inst.seq} (pid {inst.pid}) ready, init "
                    f"{(time.monotonic() - inst.started) * 1000:.0f} ms")
            elif inst.state != "busy":  # dead, or a second poll from a retired instance
                return None
            inst.current = None
            inst.state = "idle"
            self.idle += 1
            while not self.queue and not (inst.retired or stopping.is_set() or inst.state == "dead"):
                self.cond.wait(1.0)
            if inst.state == "dead":
                return None  # on_exit already uncounted it
            self.idle -= 1
            if inst.retired or stopping.is_set() or not self.queue:  # takes no more work
                inst.state = "retiring"
                inst.kill()
                return None
            inv = self.queue.popleft()
            inst.state = "busy"
            inst.current = inv
            inv.deadline = time.monotonic() + self.spec.timeout
            return inv

    def finished(self, inst: Instance, request_id: str, ok: bool, body: bytes) -> None:
        with self.cond:
            inv = inst.current
            if inv is None or inv.id != request_id:
                return
            inst.current = None
        inv.complete(ok, body)

    def reload_if_changed(self) -> None:
        mtime = self._mtime()
        if mtime == self.mtime or mtime == 0.0 or time.time() - mtime < 1.0:
            return
        self.mtime = mtime
        with self.cond:
            self.broken = ""
            self.init_failures = 0
            old = list(self.instances)
            for inst in old:
                inst.retired = True
            self.cond.notify_all()
            log(f"{self.name}: binary changed, retiring {len(old)} instance(s)")
            for inst in old:
                if inst.state in ("idle", "starting"):
                    inst.kill()
            if not any(not i.retired for i in self.instances):
                self._spawn_locked()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """The Lambda Runtime API for one instance (its server knows which instance it serves)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: the instances log for themselves
        pass

    def _reply(self, code: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        inst: Instance = self.server.instance
        if not self.path.endswith("/runtime/invocation/next"):
            return self._reply(404)
        inv = inst.fn.next_invocation(inst)
        if inv is None:
            self.close_connection = True
            return self._reply(410, b'{"errorMessage":"instance retired"}')
        deadline_ms = int(time.time() * 1000 + inst.fn.spec.timeout * 1000)
        self._reply(200, inv.payload, {
            "Lambda-Runtime-Aws-Request-Id": inv.id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{inst.fn.name}",
            "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
        })

    def do_POST(self):
        inst: Instance = self.server.instance
        body = self._body()
        m = re.search(r"/runtime/invocation/([^/]+)/(response|error)$", self.path)
        if m:
            ok = m.group(2) == "response"
            inst.fn.finished(inst, m.group(1), ok, body if ok else (body or b'{"errorType":"Unhandled"}'))
            return self._reply(202, b'{"status":"OK"}')
        if self.path.endswith("/runtime/init/error"):
            loud(f"{inst.fn.name} instance #{inst.seq} init error: {body[:300].decode(errors='replace')}")
            return self._reply(202, b'{"status":"OK"}')
        return self._reply(404)


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a killed instance resets its connection
        pass


class Instance:
    def __init__(self, fn: Function, seq: int):
        self.fn = fn
        self.seq = seq
        self.state = "starting"
        self.current: Invocation | None = None
        self.retired = False
        self.timed_out = False
        self.pid = 0
        self.proc: subprocess.Popen | None = None
        self.started = time.monotonic()
        self.server = QuietServer((HOST, 0), RuntimeApi)
        self.server.instance = self

    def start(self) -> None:
        port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        env = dict(os.environ)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"{HOST}:{port}",
            "AWS_LAMBDA_FUNCTION_NAME": self.fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.fn.spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.fn.spec.timeout),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{self.fn.name}/{self.seq}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "_HANDLER": "bootstrap",
        })
        try:
            self.proc = subprocess.Popen([self.fn.binary], env=env, stdin=subprocess.DEVNULL)
        except OSError:
            self.server.shutdown()
            self.server.server_close()
            raise
        self.pid = self.proc.pid
        threading.Thread(target=self._wait, daemon=True).start()

    def _wait(self) -> None:
        rc = self.proc.wait()
        self.fn.on_exit(self, rc)
        self.server.shutdown()
        self.server.server_close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass


def reaper(functions: dict[str, Function]) -> None:
    """Enforce each function's Timeout; pick up rebuilt binaries."""
    last_reload_check = 0.0
    while not stopping.wait(0.1):
        now = time.monotonic()
        for fn in functions.values():
            with fn.cond:
                busy = [(i, i.current) for i in fn.instances if i.state == "busy" and i.current]
            for inst, inv in busy:
                if now > inv.deadline and inv.fail(
                    "Sandbox.Timedout", f"RequestId: {inv.id} Error: Task timed out after {fn.spec.timeout}.00 seconds"
                ):
                    inst.timed_out = True
                    loud(f"{fn.name} instance #{inst.seq} (pid {inst.pid}): request {inv.id} timed out after "
                         f"{fn.spec.timeout} s; killing the instance (Lambda resets the environment)")
                    inst.kill()
        if now - last_reload_check > 1.0:
            last_reload_check = now
            for fn in functions.values():
                fn.reload_if_changed()


ROUTE_PARAM = re.compile(r"\{([^}/]+)\}")


def compile_routes(functions):
    out = []
    for method, pattern, fn in lambda_template.routes():
        if fn not in functions:
            raise SystemExit(f"route {method} {pattern} -> unknown function {fn}")
        regex = "^" + ROUTE_PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(pattern).replace(r"\{", "{").replace(r"\}", "}")) + "$"
        out.append((method, pattern, re.compile(regex), functions[fn]))
    return out


class Gateway(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    functions: dict[str, Function] = {}
    routes: list = []

    def log_message(self, *args):
        pass

    def _reply(self, code: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(code)
        has_type = False
        for k, v in headers or []:
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            has_type |= k.lower() == "content-type"
            self.send_header(k, v)
        if not has_type:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        body = self._body()
        m = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", url.path)
        if m and self.command == "POST":
            return self.invoke_api(m.group(1), body)
        if url.path == "/_local/instances" and self.command == "GET":
            return self.instances()
        if url.path == "/_local/info" and self.command == "GET":
            info = {"bin_dir": BIN_DIR, "concurrency": CONCURRENCY,
                    "timeouts": {n: f.spec.timeout for n, f in self.functions.items()}}
            return self._reply(200, json.dumps(info).encode())
        for method, pattern, regex, fn in self.routes:
            pm = regex.match(url.path)
            if pm and method == self.command:
                return self.proxy(fn, pattern, url, pm.groupdict() or None, body)
        # What API Gateway (REST) answers for a path/method it has no resource for.
        self._reply(403, b'{"message":"Missing Authentication Token"}')

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def invoke_api(self, name: str, payload: bytes) -> None:
        fn = self.functions.get(name)
        if fn is None:
            return self._reply(404, json.dumps({"Type": "User", "message": f"Function not found: {name}"}).encode(),
                               [("x-amzn-ErrorType", "ResourceNotFoundException")])
        inv = fn.invoke(payload, fn.spec.timeout + 5.0)
        if not inv.done.is_set():
            inv.fail("Sandbox.Timedout", f"no instance answered within {fn.spec.timeout} s")
        headers = [("X-Amz-Executed-Version", "$LATEST")]
        if not inv.ok:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
        self._reply(200, inv.body, headers)

    def instances(self) -> None:
        out = []
        for fn in self.functions.values():
            with fn.cond:
                for i in fn.instances:
                    out.append({"function": fn.name, "instance": i.seq, "pid": i.pid, "state": i.state,
                                "request_id": i.current.id if i.current else None, "retired": i.retired})
        self._reply(200, json.dumps(out).encode())

    def proxy(self, fn: Function, pattern: str, url, path_params, body: bytes) -> None:
        event = self.rest_event(pattern, url, path_params, body)
        inv = fn.invoke(json.dumps(event).encode(), API_GATEWAY_TIMEOUT)
        err = lambda_template.DEFAULT_5XX.encode()
        if not inv.done.is_set():
            return self._reply(504, err, [("x-amzn-ErrorType", "IntegrationTimeout")])
        if not inv.ok:
            return self._reply(502, err, [("x-amzn-ErrorType", "InternalServerErrorException")])
        try:
            resp = json.loads(inv.body)
            status = int(resp.get("statusCode", 200))
            headers = list((resp.get("headers") or {}).items())
            for k, vs in (resp.get("multiValueHeaders") or {}).items():
                headers += [(k, v) for v in vs if (k, v) not in headers]
            out = resp.get("body") or ""
            out = base64.b64decode(out) if resp.get("isBase64Encoded") else out.encode()
        except (ValueError, TypeError, AttributeError) as e:
            loud(f"{fn.name}: malformed proxy response ({e}): {inv.body[:200]!r}")
            return self._reply(502, err)
        self._reply(status, out, headers)

    def rest_event(self, pattern: str, url, path_params, body: bytes) -> dict:
        headers, multi = {}, {}
        for k, v in self.headers.items():
            headers[k] = v
            multi.setdefault(k, []).append(v)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            text, b64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, b64 = base64.b64encode(body).decode(), True
        now = dt.datetime.now(dt.timezone.utc)
        rid = str(uuid.uuid4())
        return {
            "resource": pattern,
            "path": url.path,
            "httpMethod": self.command,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_params,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "local",
                "resourcePath": pattern,
                "httpMethod": self.command,
                "extendedRequestId": rid,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": "/v1" + url.path,
                "accountId": ACCOUNT,
                "protocol": "HTTP/1.1",
                "stage": "v1",
                "domainPrefix": "localhost",
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": rid,
                "identity": {"sourceIp": self.client_address[0], "userAgent": self.headers.get("User-Agent")},
                "domainName": f"{HOST}:{PORT}",
                "apiId": "local",
            },
            "body": text if body else None,
            "isBase64Encoded": b64,
        }


def main() -> None:
    specs = lambda_template.functions()
    functions = {name: Function(spec) for name, spec in specs.items()}
    missing = [f.binary for f in functions.values() if not os.access(f.binary, os.X_OK)]
    if missing:
        raise SystemExit(f"[lambda] missing binaries (build first): {', '.join(missing)}")
    Gateway.functions = functions
    Gateway.routes = compile_routes(functions)
    try:
        server = QuietServer((HOST, PORT), Gateway)
    except OSError as e:
        raise SystemExit(f"[lambda] port {PORT} on {HOST} is taken ({e.strerror}): stop what uses it "
                         f"or choose another RELIER_WATCH_PORT")

    def on_signal(signum, _frame):
        stopping.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for fn in functions.values():
        with fn.cond:
            fn._spawn_locked()
    threading.Thread(target=reaper, args=(functions,), daemon=True).start()
    log(f"API + Invoke API on http://{HOST}:{PORT}; {len(functions)} functions from {BIN_DIR}, "
        f"up to {CONCURRENCY} instances each")
    try:
        server.serve_forever()
    finally:
        stopping.set()
        procs = [i for fn in functions.values() for i in list(fn.instances)]
        for inst in procs:
            if inst.proc is not None and inst.proc.poll() is None:
                inst.proc.terminate()
        end = time.monotonic() + 2.0
        for inst in procs:
            if inst.proc is not None:
                try:
                    inst.proc.wait(max(0.0, end - time.monotonic()))
                except subprocess.TimeoutExpired:
                    inst.kill()
        log(f"stopped ({len(procs)} instance(s))")


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    main()
