#!/usr/bin/env bash
# Static checks of the deployable templates (make test runs this after cfn-lint):
#   sam validate --lint   template.yaml (SAM transform + cfn-lint, fully offline)
#   checkov               template.yaml and infra/bootstrap.yaml; every suppression is a
#                         Metadata.checkov.skip entry with its justification next to the resource.
#   cfn-lint              infra/bootstrap.yaml
# Tools come from `infra/local/stack.sh install` (.tools/sam, .tools/checkov, .tools/venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if [[ ! -x .tools/sam/bin/sam || ! -x .tools/checkov/bin/checkov || ! -x .tools/venv/bin/cfn-lint ]]; then
  "$ROOT/infra/local/stack.sh" install
fi

# `sam validate` wants a region and credentials to exist even though --lint never calls AWS:
# give it a region and obviously fake keys, and keep its telemetry off.
env -u AWS_PROFILE AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=template-check-only AWS_SECRET_ACCESS_KEY=template-check-only \
  SAM_CLI_TELEMETRY=0 \
  .tools/sam/bin/sam validate --lint --template template.yaml --config-file "$ROOT/samconfig.toml"

.tools/venv/bin/cfn-lint -- infra/bootstrap.yaml

# --skip-download: no calls to the vendor's platform (offline, no API key); --compact --quiet:
# only failures are printed; the exit code is non-zero on any unsuppressed finding.
for f in template.yaml infra/bootstrap.yaml; do
  BC_SKIP_MAPPING=TRUE .tools/checkov/bin/checkov --file "$f" --framework cloudformation \
    --skip-download --compact --quiet
done
