#!/usr/bin/env bash
# `make dev`: the whole platform on this machine. Settings come from .env.example, overridden
# by .env and then by the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

overrides=$(env | grep -E '^(PORT|SANDBOX_PORT|MOTO_PORT|AWS_[A-Z_]+|META_[A-Z_]+|DEMO_[A-Z_]+|DEV_API_KEY|GRAPH_API_[A-Z_]+|STACK_PREFIX|OUTBOUND_RETRY_BASE_SECONDS|SANDBOX_STATUS_DELAY_SECONDS|POLL_[A-Z_]+|CLOCK_SKIP_SECONDS|RUST_LOG)=' || true)
set -a
# shellcheck disable=SC1091
source .env.example
# shellcheck disable=SC1091
[ -f .env ] && source .env
while IFS= read -r line; do [ -n "$line" ] && export "${line?}"; done <<< "$overrides"
set +a

echo "Building the local runner (the first build takes a few minutes)..."
cargo build -q -p switchboard-dev -p meta-sandbox
exec scripts/with-moto.sh target/debug/switchboard-dev up
