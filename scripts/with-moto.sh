#!/usr/bin/env bash
# Runs a command with a moto server on loopback, started from the project venv, and stops it after.
# Reuses a moto already listening on MOTO_PORT (as `make dev` leaves one).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${MOTO_PORT:-4566}"
export AWS_ENDPOINT_URL="http://127.0.0.1:${port}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true

moto_up() { curl -fsS -o /dev/null "${AWS_ENDPOINT_URL}/moto-api/" 2>/dev/null; }

started=""
if ! moto_up; then
  mkdir -p target
  .venv/moto/bin/python local/python/moto_server.py -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
  started=$!
  trap 'kill "$started" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do moto_up && break; sleep 0.1; done
  moto_up || { echo "moto did not start; see target/moto.log" >&2; exit 1; }
fi
"$@"
