#!/usr/bin/env python3
"""The API's edge over HTTP against a running `make dev`, and the OpenAPI contract.

    edge_check.py contract BASE_URL [RECORD_FILE...]
        /openapi.json is served, equals openapi/openapi.json and validates
        (openapi-spec-validator); every example of the document is valid against its own
        schema; every request example is sent to the real handlers and answered with its
        `x-expect-status` and a body/headers that match the schemas; every exchange in
        RECORD_FILE (JSON lines from smoke.py's SMOKE_RECORD) matches the schemas too.
    edge_check.py limits BASE_URL
        RATELIMIT_001 (the guides' 300 / 15 minutes) fires balance calls until the window is
        used up: X-RateLimit-Remaining counts down by one each time, then a 429 with
        Retry-After. IPLOCK_001 (allowlist 203.0.113.0/24) gets 403 from 127.0.0.1.
    edge_check.py last-seq CUSTOMER_ID
        The customer's last ledger sequence number (before a fuzz run).
    edge_check.py ledger HAR_FILE CUSTOMER_ID AFTER_SEQ
        After Schemathesis: every ledger line of CUSTOMER_ID after AFTER_SEQ belongs to a
        transaction that some response admitted (2xx, or the 500 of a refunded top-up); refused
        requests moved nothing.

Runs with .tools/venv/bin/python (jsonschema, openapi-spec-validator, boto3). Exit 0 = all passed.
"""

import json
import os
import re
import sys
import urllib.error
import urllib.request
import uuid

import jsonschema
from openapi_spec_validator import validate as validate_spec

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC_PATH = os.path.join(ROOT, "openapi", "openapi.json")
FUZZ = {"x-api-key": "fuzz_local_0123456789abcdef", "x-customer-id": "FUZZ_001"}
FUZZ_SECRET = "fuzz_secret_local_0123456789abcdef"
failures = []
passes = []


def check(name, ok, detail=""):
    if not ok:
        print("FAIL " + name + f"  -- {str(detail)[:600]}")
    (passes if ok else failures).append(name)


def call(base, method, path, headers=None, body=None):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw, status, hdrs = resp.read(), resp.status, resp.headers
    except urllib.error.HTTPError as e:
        raw, status, hdrs = e.read(), e.code, e.headers
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, {k.lower(): v for k, v in hdrs.items()}, parsed


def load_doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        return json.load(f)


def resolve(doc, obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = doc
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def validator(doc, schema):
    # The schema with the document's components beside it, so "#/components/..." resolves.
    return jsonschema.Draft202012Validator({"components": doc["components"], "allOf": [schema]})


def operation_for(doc, method, path):
    path = path.split("?")[0]
    for template, item in doc["paths"].items():
        pattern = "^" + re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    return None, None


def check_exchange(doc, method, path, status, headers, body, label):
    """The response matches the document: a declared status, its schema, its required headers."""
    template, op = operation_for(doc, method, path)
    if op is None:
        check(f"{label}: {method} {path} is in the document", False, "undocumented path")
        return
    response = op["responses"].get(str(status))
    check(f"{label}: {method} {template} {status} is a documented status", response is not None, body)
    if response is None:
        return
    response = resolve(doc, response)
    media = response.get("content", {}).get("application/json")
    if media and "schema" in media:
        errors = sorted(validator(doc, media["schema"]).iter_errors(body), key=str)
        check(f"{label}: {method} {template} {status} body matches its schema", not errors,
              [e.message for e in errors[:3]] + [body])
    lower = {k.lower(): v for k, v in headers.items()}
    for name, h in response.get("headers", {}).items():
        h = resolve(doc, h)
        if h.get("required") and name.lower() not in lower:
            check(f"{label}: {method} {template} {status} has header {name}", False, sorted(lower))
        elif name.lower() in lower and h.get("schema", {}).get("type") == "integer":
            check(f"{label}: {name} is an integer", re.fullmatch(r"\d+", lower[name.lower()]) is not None,
                  lower[name.lower()])


def contract(base, records):
    doc = load_doc()
    validate_spec(doc)
    check("openapi/openapi.json validates (openapi-spec-validator)", True)
    status, _, served = call(base, "GET", "/openapi.json")
    check("GET /openapi.json serves the document", status == 200 and served == doc, status)
    status, headers, page = call(base, "GET", "/docs")
    check("GET /docs serves the page", status == 200 and headers.get("content-type", "").startswith("text/html")
          and 'fetch("openapi.json")' in page, status)

    # Every example is valid against its own schema.
    for template, item in doc["paths"].items():
        for method, op in item.items():
            for status_code, resp in op.get("responses", {}).items():
                media = resolve(doc, resp).get("content", {}).get("application/json", {})
                for name, ex in media.get("examples", {}).items():
                    errors = list(validator(doc, media["schema"]).iter_errors(ex["value"]))
                    check(f"example {method.upper()} {template} {status_code} {name} matches its schema",
                          not errors, [e.message for e in errors[:3]])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, ex in body.get("examples", {}).items():
                errors = list(validator(doc, body["schema"]).iter_errors(ex["value"]))
                expect_ok = 200 <= ex.get("x-expect-status", [200])[0] < 300
                check(f"request example {template} {name} {'matches' if expect_ok else 'is outside'} the schema",
                      (not errors) == expect_ok, [e.message for e in errors[:3]])

    # Every request example against the real handlers (the fuzzing account's credentials).
    _, _, login = call(base, "POST", "/api/distributor/login", body={"customer_id": "FUZZ_001", "secret_key": FUZZ_SECRET})
    bearer = {"Authorization": "Bearer " + (login.get("access_token", "") if isinstance(login, dict) else "")}
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if op.get("x-relier-planned"):
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            auth = bearer if template.startswith("/api/distributor/") else FUZZ
            for name, ex in body.get("examples", {}).items():
                value = dict(ex["value"])
                # references are claimed forever: a fresh one per run keeps "accepted" accepted
                for key in ("reference", "distributor_transaction_id"):
                    if key in value:
                        value[key] = f"{value[key]}-{uuid.uuid4().hex[:10]}"
                status, headers, resp = call(base, method.upper(), template, auth, value)
                check(f"example {name} -> {method.upper()} {template} answers {ex.get('x-expect-status')}",
                      status in ex.get("x-expect-status", [200]), (status, resp))
                check_exchange(doc, method, template, status, headers, resp, f"example {name}")
            if not body:
                # parameter examples (GET routes)
                path = template
                query = []
                for p in op.get("parameters", []):
                    p = resolve(doc, p)
                    if p["in"] == "path":
                        path = path.replace("{" + p["name"] + "}", str(p.get("example", "x")))
                    elif p["in"] == "query" and "example" in p:
                        query.append(f"{p['name']}={p['example']}")
                if query:
                    path += "?" + "&".join(query)
                if template in ("/openapi.json", "/docs"):
                    continue
                status, headers, resp = call(base, method.upper(), path, auth)
                check_exchange(doc, method, path, status, headers, resp, "parameter example")

    # Every exchange the HTTP smoke test recorded.
    n = 0
    for path in records:
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                n += 1
                check_exchange(doc, r["method"], r["path"], r["status"], r["headers"], r["body"], "smoke")
    check("smoke exchanges were recorded", n > 0 or not records, n)


def limits(base):
    doc = load_doc()
    creds = {"x-api-key": "ratelimit_local_0123456789abcdef", "x-customer-id": "RATELIMIT_001"}
    status, headers, body = call(base, "GET", "/api/balance", creds)
    check("RATELIMIT_001 balance 200", status == 200, (status, body))
    check("X-RateLimit-Limit is the guides' 300", headers.get("x-ratelimit-limit") == "300", headers)
    remaining = int(headers.get("x-ratelimit-remaining", "-1"))
    calls, steps_ok = 1, True
    while remaining > 0:
        status, headers, body = call(base, "GET", "/api/balance", creds)
        calls += 1
        now = int(headers.get("x-ratelimit-remaining", "-1"))
        if status != 200 or now != remaining - 1:
            steps_ok = False
            print(f"  call {calls}: status {status}, remaining {now} after {remaining}")
            break
        remaining = now
        if calls % 50 == 0:
            check_exchange(doc, "GET", "/api/balance", status, headers, body, "rate")
    check("X-RateLimit-Remaining counts down by one per call", steps_ok, calls)
    status, headers, body = call(base, "GET", "/api/balance", creds)
    calls += 1
    check(f"call {calls} (after the window's 300) is 429 Too many requests",
          status == 429 and isinstance(body, dict) and body.get("error") == "Too many requests", (status, body))
    check("the 429 has Retry-After (1..900 s)", 1 <= int(headers.get("retry-after", "0")) <= 900, headers)
    check_exchange(doc, "GET", "/api/balance", status, headers, body, "rate")
    print(f"limits: {calls} balance calls, the last answered {status} Retry-After {headers.get('retry-after')}")

    lock = {"x-api-key": "iplock_local_0123456789abcdef", "x-customer-id": "IPLOCK_001"}
    status, headers, body = call(base, "GET", "/api/balance", dict(lock, **{"X-Forwarded-For": "203.0.113.7"}))
    check("allowlist without 127.0.0.1 -> 403 IP not authorized (X-Forwarded-For ignored)",
          status == 403 and body == {"success": False, "error": "IP not authorized"}, (status, body))
    check_exchange(doc, "GET", "/api/balance", status, headers, body, "allowlist")


def ledger_lines(customer):
    import boto3
    table = os.environ.get("ACCOUNTS_TABLE", "relier-accounts")
    ddb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"])
    lines, kwargs = [], {}
    while True:
        out = ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                        ExpressionAttributeValues={":pk": {"S": f"LEDGER#{customer}"}}, **kwargs)
        lines += out["Items"]
        if "LastEvaluatedKey" not in out:
            break
        kwargs = {"ExclusiveStartKey": out["LastEvaluatedKey"]}
    return [(int(i["seq"]["N"]), i["transaction_id"]["S"], i["kind"]["S"]) for i in lines]


def last_seq(customer):
    print(max([seq for seq, _, _ in ledger_lines(customer)], default=0))


def ledger(har_path, customer, after):
    with open(har_path, encoding="utf-8") as f:
        har = json.load(f)
    admitted, refused = set(), 0
    for entry in har["log"]["entries"]:
        status = entry["response"]["status"]
        text = entry["response"].get("content", {}).get("text") or ""
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            refused += 1
            continue
        ids = {body.get("transaction_id"), (body.get("transaction") or {}).get("id")} - {None}
        # Admitted: accepted (200/202), or the refunded failure of a delivered attempt (500).
        failed_delivery = status == 500 and (body.get("error") == "Transaction processing failed"
                                             or body.get("response_code") == "91")
        if status in (200, 202) or failed_delivery:
            admitted |= ids
        else:
            refused += 1
    lines = [line for line in ledger_lines(customer) if line[0] > after]
    stray = [f"{seq} {kind} {tx}" for seq, tx, kind in lines if tx not in admitted]
    print(f"ledger: {len(har['log']['entries'])} fuzzed requests ({refused} refused), "
          f"{len(lines)} new ledger lines of {customer}, {len(admitted)} admitted transactions")
    check("every new ledger line belongs to an admitted request (refused requests moved no money)",
          not stray, stray[:5])


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "contract":
        contract(sys.argv[2].rstrip("/"), sys.argv[3:])
    elif cmd == "limits":
        limits(sys.argv[2].rstrip("/"))
    elif cmd == "last-seq":
        last_seq(sys.argv[2])
        return 0
    elif cmd == "ledger":
        ledger(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)
    print(f"edge {cmd}: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
