# shellcheck shell=bash
# Local environment contract for Relier (sourced by stack.sh, dev.sh, test.sh, the Makefile).
# Every value can be overridden by exporting it before sourcing this file.
#
#   source infra/local/env.sh
#
# Dev-only values: nothing here is used in AWS (template.yaml sets the deployed env).

RELIER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)"
export RELIER_ROOT

# Local ports (stack.sh, dev.sh, sqs_bridge.py). Every local URL below derives from these, so a
# second checkout can run its own stack side by side (e.g. RELIER_DDB_PORT=8010 ...).
export RELIER_DDB_PORT="${RELIER_DDB_PORT:-8000}"
export RELIER_MOTO_PORT="${RELIER_MOTO_PORT:-5000}"
export RELIER_WATCH_PORT="${RELIER_WATCH_PORT:-9000}"

export MODE="${MODE:-SANDBOX}"
export ACCOUNTS_TABLE="${ACCOUNTS_TABLE:-relier-accounts}"
export TRANSACTIONS_TABLE="${TRANSACTIONS_TABLE:-relier-transactions}"
export TOPUP_QUEUE_URL="${TOPUP_QUEUE_URL:-http://127.0.0.1:${RELIER_MOTO_PORT}/123456789012/relier-topups}"
export TOPUP_DLQ_URL="${TOPUP_DLQ_URL:-http://127.0.0.1:${RELIER_MOTO_PORT}/123456789012/relier-topups-dlq}"
# Webhook dispatch queue (issue 10): poked after outbox writes; drained by webhook-dispatcher.
export WEBHOOK_QUEUE_URL="${WEBHOOK_QUEUE_URL:-http://127.0.0.1:${RELIER_MOTO_PORT}/123456789012/relier-webhooks}"
export WEBHOOK_DLQ_URL="${WEBHOOK_DLQ_URL:-http://127.0.0.1:${RELIER_MOTO_PORT}/123456789012/relier-webhooks-dlq}"
export TOPUP_PROVIDER="${TOPUP_PROVIDER:-sandbox}"
export SANDBOX_FX_RATE="${SANDBOX_FX_RATE:-18.52}"
export FX_MAX_AGE_SECS="${FX_MAX_AGE_SECS:-21600}"
# Dev-only signing secret for the distributor API's JWTs (AWS: DISTRIBUTOR_JWT_SECRET_ID).
export DISTRIBUTOR_JWT_SECRET="${DISTRIBUTOR_JWT_SECRET:-local-dev-only-distributor-jwt-secret-0123456789}"

export AWS_ENDPOINT_URL_DYNAMODB="${AWS_ENDPOINT_URL_DYNAMODB:-http://127.0.0.1:${RELIER_DDB_PORT}}"
export AWS_ENDPOINT_URL_SQS="${AWS_ENDPOINT_URL_SQS:-http://127.0.0.1:${RELIER_MOTO_PORT}}"
export AWS_ENDPOINT_URL_SECRETS_MANAGER="${AWS_ENDPOINT_URL_SECRETS_MANAGER:-http://127.0.0.1:${RELIER_MOTO_PORT}}"
# relier-admin --stack / --usage-plan-id against the local stack: moto serves CloudFormation and
# API Gateway too (infra/admin/tests/admin_cli.rs uses them).
export AWS_ENDPOINT_URL_CLOUDFORMATION="${AWS_ENDPOINT_URL_CLOUDFORMATION:-http://127.0.0.1:${RELIER_MOTO_PORT}}"
export AWS_ENDPOINT_URL_API_GATEWAY="${AWS_ENDPOINT_URL_API_GATEWAY:-http://127.0.0.1:${RELIER_MOTO_PORT}}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
# Never let a developer's ~/.aws profile or IMDS leak into the local stack.
export AWS_EC2_METADATA_DISABLED="${AWS_EC2_METADATA_DISABLED:-true}"
export RUST_LOG="${RUST_LOG:-info}"
# Same as template.yaml: request paths without the API Gateway stage prefix.
export AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH="${AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH:-true}"

# Reloadly (issue 5): RELOADLY_ENV, RELOADLY_AUTH_URL, RELOADLY_API_URL, RELOADLY_CLIENT_ID,
# RELOADLY_CLIENT_SECRET, FX_SPREAD_PERCENT are not set here: export them yourself with
# TOPUP_PROVIDER=reloadly (the local stack has no network to Reloadly anyway).


# Tools installed by `infra/local/stack.sh install` (python venv: moto, cargo-lambda, zig, cfn-lint, boto3).
case ":$PATH:" in
  *":$RELIER_ROOT/.tools/venv/bin:"*) ;;
  *) export PATH="$RELIER_ROOT/.tools/venv/bin:$PATH" ;;
esac
