#!/usr/bin/env bash
# Register a partner's existing x-api-key with API Gateway so the usage plan (rate limit, burst,
# daily quota) applies to it. Partners already send this key in `x-api-key`; API Gateway rejects
# keys that are not registered (401 {"success":false,"error":"Invalid API credentials"}).
#
#   infra/register-partner-key.sh STACK_NAME CUSTOMER_ID API_KEY_VALUE
#   e.g. infra/register-partner-key.sh relier HAZ_001 "$HAZ_KEY"     (never paste keys into shell history)
#
# Idempotent: an existing key named relier-<stack>-<customer> is reused. Needs the aws CLI and
# apigateway:GET/POST rights. The key value must be >= 20 characters (API Gateway minimum).
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 STACK_NAME CUSTOMER_ID API_KEY_VALUE" >&2
  exit 2
fi
stack="$1" customer="$2" value="$3"
if ((${#value} < 20)); then
  echo "API Gateway API keys must be at least 20 characters; issue the partner a longer key" >&2
  exit 2
fi
name="relier-${stack}-${customer}"

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
