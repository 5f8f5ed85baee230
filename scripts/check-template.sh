#!/usr/bin/env bash
# Checks template.yaml the way a deployment would use it: cfn-lint, `sam validate --lint`, then
# `sam build` of every function, all offline. Run through `make template-check`, which installs
# the pinned tools into .venv/tools first.
#
# SAM_BUILD_MODE selects what `sam build` compiles:
#   release (default)  `cargo lambda build --release`: the workspace's release profile (fat LTO,
#                      one codegen unit), byte for byte what `sam deploy` uploads.
#   debug              unoptimized binaries; proves the same template, handlers and bin names
#                      build, in a fraction of the time. Never deploy these.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="$PWD/.venv/tools/bin"
if [[ ! -x "$tools/sam" || ! -x "$tools/cfn-lint" || ! -x "$tools/cargo-lambda" ]]; then
  echo "deploy tools missing: run 'make .venv/tools/.installed'" >&2
  exit 1
fi
# cargo-lambda links with zig, which it runs as `python3 -m ziglang`: the first python3 on PATH
# must be the venv's, where ziglang is installed.
export PATH="$tools:$PATH"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAM_CLI_TELEMETRY=0

mode="${SAM_BUILD_MODE:-release}"
case "$mode" in
  release) unset SAM_BUILD_MODE ;;
  debug) export SAM_BUILD_MODE=debug ;;
  *) echo "SAM_BUILD_MODE must be release or debug, not '$mode'" >&2; exit 2 ;;
esac

step() { printf '\n==> %s\n' "$*"; }
seconds() { echo $(( $(date +%s) - $1 )); }

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "sam validate --lint"
sam validate --lint --template-file template.yaml

# The rust-cargolambda workflow builds in the source tree, into the workspace's own target/
# directory, so these builds reuse what cargo already compiled.
step "sam build ($mode)"
started=$(date +%s)
sam build --beta-features --template-file template.yaml --build-dir .aws-sam/build
echo "sam build ($mode) took $(seconds "$started") s"

# Every function in the built template must point at a directory holding an executable bootstrap.
missing=0
for dir in $(sed -n 's/^ *CodeUri: *//p' .aws-sam/build/template.yaml); do
  artifact=".aws-sam/build/$dir/bootstrap"
  if [[ -x "$artifact" ]]; then
    printf '  %-20s %s bytes\n' "$dir" "$(stat -c %s "$artifact")"
  else
    echo "  $dir: no executable $artifact" >&2
    missing=1
  fi
done
exit "$missing"
