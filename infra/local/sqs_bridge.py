#!/usr/bin/env python3
"""Dev-only stand-in for Lambda's SQS event source mapping and the EventBridge schedule.

Never deployed. Started by infra/local/dev.sh next to `cargo lambda watch`:

* long-polls TOPUP_QUEUE_URL (moto), wraps each batch in a real SQS Lambda event and invokes
  `topup-worker` through cargo lambda watch's Invoke API; deletes only the messages that are not
  listed in the response's batchItemFailures (ReportBatchItemFailures). On an invoke error nothing
  is deleted, so the messages come back after the visibility timeout (and reach the DLQ after
  maxReceiveCount), as in AWS.
* every RECONCILER_INTERVAL_SECS (default 60) invokes `reconciler` with a scheduled event.

Env: TOPUP_QUEUE_URL (or BRIDGE_QUEUE_URL, BRIDGE_FUNCTION, BRIDGE_SCHEDULE_FUNCTION), AWS_ENDPOINT_URL_SQS, AWS_REGION (from infra/local/env.sh),
     RELIER_WATCH_PORT (9000), RECONCILER_INTERVAL_SECS (60), SQS_WAIT_SECS (10),
     WATCH_WAIT_SECS (600: how long to wait for cargo lambda watch to answer at start).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
from botocore.config import Config

ACCOUNT = "123456789012"
REGION = os.environ.get("AWS_REGION", "us-east-1")
# BRIDGE_* (webhooks, issue 10): dev.sh runs a second bridge, webhook queue -> webhook-dispatcher
# and webhook-sweep on the schedule, with the same code.
QUEUE_URL = os.environ.get("BRIDGE_QUEUE_URL") or os.environ.get(
    "TOPUP_QUEUE_URL", f"http://127.0.0.1:5000/{ACCOUNT}/relier-topups"
)
WORKER_FN = os.environ.get("BRIDGE_FUNCTION", "topup-worker")
SCHEDULE_FN = os.environ.get("BRIDGE_SCHEDULE_FUNCTION", "reconciler")
QUEUE_NAME = QUEUE_URL.rstrip("/").rsplit("/", 1)[-1]
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE_NAME}"
WATCH_HOST = "127.0.0.1"
WATCH_PORT = int(os.environ.get("RELIER_WATCH_PORT", "9000"))
WATCH = f"http://{WATCH_HOST}:{WATCH_PORT}"
WORKER_URL = f"{WATCH}/2015-03-31/functions/{WORKER_FN}/invocations"
RECONCILER_URL = f"{WATCH}/2015-03-31/functions/{SCHEDULE_FN}/invocations"
RECONCILER_INTERVAL = float(os.environ.get("RECONCILER_INTERVAL_SECS", "60"))
WAIT_SECS = max(0, min(20, int(os.environ.get("SQS_WAIT_SECS", "10"))))
WATCH_WAIT = float(os.environ.get("WATCH_WAIT_SECS", "600"))
# The first invoke of a function makes cargo lambda watch compile it: allow minutes.
INVOKE_TIMEOUT = float(os.environ.get("INVOKE_TIMEOUT_SECS", "900"))


class Stop(BaseException):  # BaseException: must not be swallowed by `except Exception`
    pass


def log(msg: str) -> None:
    now = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[sqs-bridge {now}] {msg}", file=sys.stderr, flush=True)


def on_signal(signum, _frame):
    raise Stop(signal.Signals(signum).name)


def invoke(url: str, event: dict) -> tuple[bool, object]:
    """POST an event to cargo lambda watch. Returns (ok, decoded response or error text)."""
    req = urllib.request.Request(
        url,
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=INVOKE_TIMEOUT) as resp:
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
                log(f"cargo lambda watch did not answer on {WATCH} within {WATCH_WAIT:.0f}s")
                sys.exit(1)
            if not announced:
                log(f"waiting for cargo lambda watch on {WATCH} ...")
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


def sqs_event(messages: list[dict]) -> dict:
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
                "eventSourceARN": QUEUE_ARN,
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
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/relier-{SCHEDULE_FN}-local"],
        "detail": {},
    }


def handle_batch(sqs, messages: list[dict]) -> None:
    ok, resp = invoke(WORKER_URL, sqs_event(messages))
    if not ok:
        log(f"{WORKER_FN} invoke failed, deleting none of {len(messages)} message(s): {resp}")
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
            QueueUrl=QUEUE_URL,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
        )
        for f in r.get("Failed", []):
            log(f"delete failed: {f}")
    log(f"{WORKER_FN}: {len(messages)} message(s), {len(done)} done, {len(failed)} to retry")


def main() -> None:
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        wait_for_watch()
        sqs = boto3.client(
            "sqs",
            region_name=REGION,
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:5000"),
            config=Config(read_timeout=WAIT_SECS + 10, retries={"max_attempts": 2}),
        )
        log(f"polling {QUEUE_URL} -> {WORKER_FN}; {SCHEDULE_FN} every {RECONCILER_INTERVAL:.0f}s")
        next_reconcile = time.monotonic() + RECONCILER_INTERVAL
        while True:
            if time.monotonic() >= next_reconcile:
                ok, resp = invoke(RECONCILER_URL, scheduled_event())
                if not ok:
                    log(f"{SCHEDULE_FN} invoke FAILED: {resp}")
                elif resp:
                    log(f"{SCHEDULE_FN}: {json.dumps(resp)[:200]}")
                next_reconcile = time.monotonic() + RECONCILER_INTERVAL
            try:
                r = sqs.receive_message(
                    QueueUrl=QUEUE_URL,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=WAIT_SECS,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except Exception as e:  # queue missing (setup not run) or moto restarting
                log(f"receive_message failed: {e}; retrying in 5s")
                time.sleep(5)
                continue
            messages = r.get("Messages") or []
            if messages:
                handle_batch(sqs, messages)
    except Stop as s:
        log(f"stopping ({s})")


if __name__ == "__main__":
    main()
