"""Schemathesis hooks for `infra/local/fuzz.sh` (loaded with SCHEMATHESIS_HOOKS).

`cargo lambda watch` (the local emulator behind `make dev`) answers 500 by itself, before any
function runs, to a request whose body or header values are not UTF-8. API Gateway does not
(README, "Local emulator quirk"). This hook drops exactly those generated requests so a fuzzed
500 is always ours; every other invalid input (wrong types, missing fields, bad JSON) is sent.
"""

import schemathesis


def _utf8(value) -> bool:
    if isinstance(value, (bytes, bytearray)):
        try:
            bytes(value).decode("utf-8")
            return True
        except UnicodeDecodeError:
            return False
    data = getattr(value, "data", None)  # schemathesis' Binary wrapper
    if isinstance(data, (bytes, bytearray)):
        return _utf8(data)
    return True


@schemathesis.hook
def filter_case(context, case) -> bool:
    # Header values go out latin-1 encoded: anything beyond ASCII is not UTF-8 on the wire.
    for value in (case.headers or {}).values():
        if isinstance(value, str) and not value.isascii():
            return False
    return _utf8(case.body)
