"""What the local stack reads from template.yaml and Cargo.toml (dev only, standard library).

* `functions()`: every AWS::Serverless::Function as {binary: Function(name, timeout, memory,
  schedule_secs)}, with Globals' Timeout/MemorySize as defaults. A line parser, not a YAML one:
  the template's CloudFormation tags (!Ref, !GetAtt) need no loader this way.
* `routes()`: the HTTP routes of `[workspace.metadata.lambda.watch.router]` in Cargo.toml
  (the same table `cargo lambda watch` reads), as (method, pattern, function) tuples.
* `DEFAULT_5XX`: the body API Gateway answers with when an integration fails or times out.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(ROOT, "template.yaml")


@dataclass
class Function:
    name: str
    timeout: int
    memory: int
    schedule_secs: int | None = None


RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def _rate_secs(expr: str) -> int | None:
    m = re.fullmatch(r"rate\((\d+) (\w+)\)", expr.strip())
    if not m or m.group(2) not in RATE_UNITS:
        return None
    return int(m.group(1)) * RATE_UNITS[m.group(2)]


def functions(path: str = TEMPLATE) -> dict[str, Function]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    glob = re.search(r"^Globals:\n  Function:\n((?:    .*\n|\n)+)", text, re.M)
    g = glob.group(1) if glob else ""
    default_timeout = int((re.search(r"^    Timeout: (\d+)", g, re.M) or [0, 3])[1])
    default_memory = int((re.search(r"^    MemorySize: (\d+)", g, re.M) or [0, 128])[1])
    out: dict[str, Function] = {}
    # Each top-level resource is a block starting with two-space indentation.
    for block in re.split(r"^  (?=\S)", text, flags=re.M):
        if "Type: AWS::Serverless::Function" not in block:
            continue
        binary = re.search(r"^\s+Binary: (\S+)", block, re.M)
        if not binary:
            continue
        timeout = re.search(r"^      Timeout: (\d+)", block, re.M)
        memory = re.search(r"^      MemorySize: (\d+)", block, re.M)
        schedule = re.search(r"^\s+Schedule: (rate\([^)]*\))", block, re.M)
        name = binary.group(1)
        out[name] = Function(
            name=name,
            timeout=int(timeout.group(1)) if timeout else default_timeout,
            memory=int(memory.group(1)) if memory else default_memory,
            schedule_secs=_rate_secs(schedule.group(1)) if schedule else None,
        )
    return out


def routes(path: str = os.path.join(ROOT, "Cargo.toml")) -> list[tuple[str, str, str]]:
    with open(path, "rb") as f:
        meta = tomllib.load(f)
    router = meta["workspace"]["metadata"]["lambda"]["watch"]["router"]
    return [(r["method"].upper(), pattern, r["function"]) for pattern, rs in router.items() for r in rs]


def _default_5xx(path: str = TEMPLATE) -> str:
    with open(path, encoding="utf-8") as f:
        m = re.search(r"DEFAULT_5XX:\n(?:\s+.*\n)*?\s+application/json: '(.*)'", f.read())
    return m.group(1) if m else '{"message": "Internal server error"}'


DEFAULT_5XX = _default_5xx()
