#!/usr/bin/env python3
"""Dev-only stand-in for Lambda's SQS event source mapping and the EventBridge schedule.

Never deployed. Started by infra/local/dev.sh next to infra/local/lambda_local.py:

* SQS_POLLERS threads (default 2; the template caps the worker at MaximumConcurrency 5) each
  long-poll TOPUP_QUEUE_URL (moto), wrap a batch in a real SQS Lambda event and invoke
  `topup-worker` through the Invoke API; they delete only the messages that are not listed in the
  response's batchItemFailures (ReportBatchItemFailures). On an invoke error (function error,
  crash, timeout) nothing is deleted, so the messages come back after the visibility timeout (and
  reach the DLQ after maxReceiveCount), as in AWS.
* one more poller feeds WEBHOOK_QUEUE_URL to `webhook-dispatcher` the same way (webhooks).
* every scheduled function of template.yaml (reconciler, fx-refresh) runs on its own thread at its
  rate; RECONCILER_INTERVAL_SECS (default 60) overrides the reconciler's 5 minutes locally. A slow
  or crashed worker never delays a schedule, and a schedule never delays the queue.
* every invoke waits at most the function's Timeout (template.yaml) + 5 s; lambda_local.py
  enforces the Timeout itself.

Env: TOPUP_QUEUE_URL, AWS_ENDPOINT_URL_SQS, AWS_REGION (from infra/local/env.sh),
     RELIER_WATCH_PORT (9000), RECONCILER_INTERVAL_SECS (60), SQS_WAIT_SECS (10), SQS_POLLERS (2),
     WATCH_WAIT_SECS (600: how long to wait for the local API to answer at start).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config

import lambda_template

ACCOUNT = "123456789012"
REGION = os.environ.get("AWS_REGION", "us-east-1")
QUEUE_URL = os.environ.get("TOPUP_QUEUE_URL", f"http://127.0.0.1:5000/{ACCOUNT}/relier-topups")
QUEUE_NAME = QUEUE_URL.rstrip("/").rsplit("/", 1)[-1]
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE_NAME}"
WATCH_HOST = "127.0.0.1"
WATCH_PORT = int(os.environ.get("RELIER_WATCH_PORT", "9000"))
WATCH = f"http://{WATCH_HOST}:{WATCH_PORT}"
FUNCTIONS = lambda_template.functions()
WORKER = "topup-worker"
# Webhooks (issue 10): the webhook queue feeds webhook-dispatcher the same way.
WEBHOOK_QUEUE_URL = os.environ.get("WEBHOOK_QUEUE_URL", "")
DISPATCHER = "webhook-dispatcher"
RECONCILER_INTERVAL = float(os.environ.get("RECONCILER_INTERVAL_SECS", "60"))
WAIT_SECS = max(0, min(20, int(os.environ.get("SQS_WAIT_SECS", "10"))))
POLLERS = max(1, min(5, int(os.environ.get("SQS_POLLERS", "2"))))
WATCH_WAIT = float(os.environ.get("WATCH_WAIT_SECS", "600"))
stop = threading.Event()


class Stop(BaseException):  # BaseException: must not be swallowed by `except Exception`
    pass


def log(msg: str) -> None:
    now = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[sqs-bridge {now}] {msg}", file=sys.stderr, flush=True)


def on_signal(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def invoke(function: str, event: dict) -> tuple[bool, object]:
    """Invoke a function through the Invoke API. Returns (ok, decoded response or error text)."""
    req = urllib.request.Request(
        f"{WATCH}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=FUNCTIONS[function].timeout + 5) as resp:
            body = resp.read()
            if resp.headers.get("X-Amz-Function-Error"):
                return False, body.decode(errors="replace")[:500]
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code}: {e.read().decode(errors='replace')[:500]}"
    except (urllib.error.URLError, OSError) as e:
        return False, str(e)
    if not body.strip():
        return True, None
    try:
        return True, json.loads(body)
    except ValueError:
        return False, f"non-JSON response: {body[:200]!r}"


def wait_for_watch() -> None:
    deadline = time.monotonic() + WATCH_WAIT
    announced = False
    while True:
        try:  # a TCP connect only: a GET / would make watch log an error
            socket.create_connection((WATCH_HOST, WATCH_PORT), timeout=3).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                log(f"the local API did not answer on {WATCH} within {WATCH_WAIT:.0f}s")
                sys.exit(1)
            if not announced:
                log(f"waiting for the local API on {WATCH} ...")
                announced = True
            time.sleep(1)


def lambda_message_attributes(attrs: dict) -> dict:
    out = {}
    for name, a in (attrs or {}).items():
        binary = a.get("BinaryValue")
        if isinstance(binary, (bytes, bytearray)):
            binary = base64.b64encode(binary).decode()
        item = {"dataType": a.get("DataType"), "stringListValues": [], "binaryListValues": []}
        if a.get("StringValue") is not None:
            item["stringValue"] = a["StringValue"]
        if binary is not None:
            item["binaryValue"] = binary
        out[name] = item
    return out


def sqs_event(messages: list[dict], queue_url: str = QUEUE_URL) -> dict:
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_url.rstrip('/').rsplit('/', 1)[-1]}"
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": {k: str(v) for k, v in (m.get("Attributes") or {}).items()},
                "messageAttributes": lambda_message_attributes(m.get("MessageAttributes")),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def scheduled_event() -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/relier-schedule-local"],
        "detail": {},
    }


def handle_batch(sqs, messages: list[dict], queue_url: str = QUEUE_URL, function: str = WORKER) -> None:
    ok, resp = invoke(function, sqs_event(messages, queue_url))
    if not ok:
        log(f"{function} invoke failed, deleting none of {len(messages)} message(s): {resp}")
        return
    failed: set[str] = set()
    if isinstance(resp, dict) and resp.get("batchItemFailures") is not None:
        items = resp["batchItemFailures"]
        if not isinstance(items, list):
            log(f"malformed batchItemFailures, deleting none: {resp!r}"[:300])
            return
        for it in items:
            ident = it.get("itemIdentifier") if isinstance(it, dict) else None
            if not ident:
                # Lambda treats an empty/invalid identifier as a failure of the whole batch.
                log(f"invalid batchItemFailures entry {it!r}, deleting none")
                return
            failed.add(ident)
    done = [m for m in messages if m["MessageId"] not in failed]
    for i in range(0, len(done), 10):
        chunk = done[i : i + 10]
        r = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
        )
        for f in r.get("Failed", []):
            log(f"delete failed: {f}")
    log(f"{function}: {len(messages)} message(s), {len(done)} done, {len(failed)} to retry")


def poller(n: int, queue_url: str = QUEUE_URL, function: str = WORKER) -> None:
    sqs = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5000"),
        config=Config(read_timeout=WAIT_SECS + 10, retries={"max_attempts": 2}),
    )
    while not stop.is_set():
        try:
            r = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=WAIT_SECS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = r.get("Messages") or []
            if messages and not stop.is_set():
                handle_batch(sqs, messages, queue_url, function)
        except Exception as e:  # queue missing (setup not run), moto restarting, delete failed
            log(f"poller {n}: {e}; retrying in 5s")
            stop.wait(5)


def schedule(function: str, every: float) -> None:
    while not stop.wait(every):
        started = time.monotonic()
        ok, resp = invoke(function, scheduled_event())
        took = time.monotonic() - started
        if not ok:
            log(f"{function} (scheduled) FAILED after {took:.1f}s: {resp}")
        elif resp:
            log(f"{function}: {json.dumps(resp)[:200]}")


def main() -> None:
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wait_for_watch()
        threads = [threading.Thread(target=poller, args=(n,), daemon=True) for n in range(POLLERS)]
        plan = []
        if WEBHOOK_QUEUE_URL:
            threads.append(threading.Thread(target=poller, args=(POLLERS, WEBHOOK_QUEUE_URL, DISPATCHER), daemon=True))
            plan.append(f"{WEBHOOK_QUEUE_URL} -> {DISPATCHER}")
        for fn in FUNCTIONS.values():
            if fn.schedule_secs:
                every = RECONCILER_INTERVAL if fn.name == "reconciler" else float(fn.schedule_secs)
                threads.append(threading.Thread(target=schedule, args=(fn.name, every), daemon=True))
                plan.append(f"{fn.name} every {every:.0f}s")
        for t in threads:
            t.start()
        log(f"{POLLERS} poller(s) on {QUEUE_URL} -> {WORKER}; {', '.join(plan)}")
        while True:
            time.sleep(3600)
    except Stop as s:
        stop.set()
        log(f"stopping ({s})")


if __name__ == "__main__":
    main()
