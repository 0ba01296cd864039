#!/usr/bin/env bash
# Lint template.yaml with cfn-lint + the cfn-lint-serverless rules (from .tools/venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
[[ -x .tools/venv/bin/cfn-lint ]] || "$ROOT/infra/local/stack.sh" install
exec .tools/venv/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml "$@"
