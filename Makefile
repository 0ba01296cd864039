# Relier developer entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV := source infra/local/env.sh
STACK := infra/local/stack.sh

.PHONY: help install dev test lint fmt cfn-lint template-check size ledger-check stack-up stack-down stack-status bench bench-http

RELEASE ?= 0
N ?= 200

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

install: ## Install local tools into .tools/ (venv: moto, cargo-lambda, zig, cfn-lint, boto3; DynamoDB Local)
	@$(STACK) install

dev: ## Stack up + fixtures + API on 127.0.0.1:9000 (several instances per function) + SQS bridge; RELEASE=1 for release builds (Ctrl-C stops all)
	@RELEASE=$(RELEASE) infra/local/dev.sh

test: ## Stack up, fmt check, cfn-lint, sam validate --lint, checkov, clippy, cargo test, HTTP smoke; stops the stack it started
	@infra/local/test.sh

lint: ## cargo fmt --check, clippy -D warnings, cfn-lint (+ serverless rules)
	@$(ENV); cargo fmt --all -- --check
	@$(ENV); cargo clippy --workspace --all-targets -- -D warnings
	@infra/local/cfn-lint.sh

fmt: ## cargo fmt (rewrite files)
	@cargo fmt --all

cfn-lint: ## Lint template.yaml with cfn-lint + cfn-lint-serverless rules
	@infra/local/cfn-lint.sh

template-check: ## sam validate --lint + checkov on template.yaml and infra/bootstrap.yaml (offline)
	@infra/local/template-check.sh

size: ## Release-build the health function and print its binary size in MB (arm64 via cargo lambda if possible)
	@infra/local/size.sh

ledger-check: ## relier-admin ledger-check against the local stack (non-zero if a ledger does not add up)
	@$(ENV); cargo run -q -p relier-admin -- ledger-check

stack-up: ## Start DynamoDB Local (:8000) + moto SQS (:5000) and run relier-admin setup
	@$(STACK) up

stack-down: ## Stop the stack services that stack-up started
	@$(STACK) down

stack-status: ## Show what answers on :8000 / :5000 and what stack.sh started
	@$(STACK) status

bench: ## Run infra/local/bench.sh
	@infra/local/bench.sh

bench-http: ## Against a running make dev: N sequential + N concurrent (16 clients) sync top-ups over HTTP; p50/p95/p99, top-ups/s, ledger check
	@$(ENV); python3 infra/local/bench_http.py --n $(N)
