#!/usr/bin/env bash
# Register a partner's x-api-key with API Gateway so the usage plan (rate limit, burst, daily
# quota) applies to it, or delete it from API Gateway after `relier-admin key revoke`.
# The key itself comes from `relier-admin partner create` / `key add` (which store its hash).
#
#   infra/register-partner-key.sh STACK_NAME CUSTOMER_ID API_KEY_VALUE|-     (- reads the key from stdin)
#   infra/register-partner-key.sh --delete STACK_NAME CUSTOMER_ID KEY_PREFIX
#   e.g. relier-admin key add HAZ_001 ... ; infra/register-partner-key.sh relier HAZ_001 - < key.txt
#
# One API Gateway key per partner key, named relier-<stack>-<customer>-<first 12 characters>, so
# two keys of a partner are both valid during a rotation. Idempotent. Needs the aws CLI and
# apigateway:GET/POST/DELETE rights. Keys must be >= 20 characters (API Gateway minimum).
set -euo pipefail

delete=0
if [[ "${1:-}" == "--delete" ]]; then
  delete=1
  shift
fi
if [[ $# -ne 3 ]]; then
  echo "usage: $0 STACK_NAME CUSTOMER_ID API_KEY_VALUE|-   or   $0 --delete STACK_NAME CUSTOMER_ID KEY_PREFIX" >&2
  exit 2
fi
stack="$1" customer="$2" value="$3"

if ((delete)); then
  name="relier-${stack}-${customer}-${value:0:12}"
  key_id="$(aws apigateway get-api-keys --name-query "$name" \
    --query "items[?name=='$name'].id | [0]" --output text)"
  if [[ -z "$key_id" || "$key_id" == "None" ]]; then
    echo "no API Gateway key named $name"
  else
    aws apigateway delete-api-key --api-key "$key_id"
    echo "deleted API Gateway key $key_id ($name)"
  fi
  exit 0
fi

if [[ "$value" == "-" ]]; then
  IFS= read -r value
fi
if ((${#value} < 20)); then
  echo "API Gateway API keys must be at least 20 characters; issue the partner a longer key" >&2
  exit 2
fi
name="relier-${stack}-${customer}-${value:0:12}"

plan_id="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='UsagePlanId'].OutputValue" --output text)"
[[ -n "$plan_id" && "$plan_id" != "None" ]] || { echo "stack $stack has no UsagePlanId output" >&2; exit 1; }

key_id="$(aws apigateway get-api-keys --name-query "$name" \
  --query "items[?name=='$name'].id | [0]" --output text)"
if [[ -z "$key_id" || "$key_id" == "None" ]]; then
  key_id="$(aws apigateway create-api-key --name "$name" --value "$value" --enabled \
    --description "Relier partner $customer" --tags "customer_id=$customer" \
    --query id --output text)"
  echo "created API key $key_id ($name)"
else
  echo "API key $key_id ($name) already exists"
fi

if aws apigateway get-usage-plan-key --usage-plan-id "$plan_id" --key-id "$key_id" >/dev/null 2>&1; then
  echo "already in usage plan $plan_id"
else
  aws apigateway create-usage-plan-key --usage-plan-id "$plan_id" --key-id "$key_id" --key-type API_KEY >/dev/null
  echo "added to usage plan $plan_id"
fi
