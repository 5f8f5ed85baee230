#!/usr/bin/env bash
# Checks template.yaml the way a deployment would use it: cfn-lint, `sam validate --lint`, then
# `sam build` of every function, all offline. Run through `make template-check`, which installs
# the pinned tools into .venv/tools first.
#
# SAM_BUILD_MODE selects what `sam build` compiles:
#   debug (default)  unoptimized binaries: the same template, build method, target and bin
#                    names as a deployment, so every function is proven to build. On an x86_64
#                    Linux host (the template's architecture) cargo-lambda compiles with plain
#                    cargo rather than zig, so it reuses what `make e2e-test` compiled for the
#                    same explicit target and takes seconds, not a second full build. Never
#                    deploy these.
#   release          `cargo lambda build --release`, the workspace's release profile (fat LTO,
#                    one codegen unit): byte for byte what `sam deploy` uploads. Every change
#                    relinks each function with fat LTO, about 100 s per function on 2 cores.
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

mode="${SAM_BUILD_MODE:-debug}"
# Debug artifacts go where `sam deploy` never looks (it deploys .aws-sam/build).
case "$mode" in
  release) unset SAM_BUILD_MODE; build_dir=.aws-sam/build ;;
  debug)
    export SAM_BUILD_MODE=debug
    build_dir=target/sam-debug-build
    if [[ "$(rustc -vV | sed -n 's/^host: //p')" == x86_64-unknown-linux-gnu ]]; then
      export CARGO_LAMBDA_COMPILER=cargo
    fi
    ;;
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
sam build --beta-features --template-file template.yaml --build-dir "$build_dir"
echo "sam build ($mode) took $(seconds "$started") s"

# Every function of the built template must point at a directory holding an executable bootstrap.
functions=$("$tools/python" - "$build_dir/template.yaml" <<'PY'
import sys
from samcli.yamlhelper import yaml_parse

with open(sys.argv[1]) as f:
    template = yaml_parse(f.read())
for name, resource in template.get("Resources", {}).items():
    if resource.get("Type") == "AWS::Serverless::Function":
        print(name, resource.get("Properties", {}).get("CodeUri", ""))
PY
)
missing=0
while read -r name dir; do
  artifact="$build_dir/$dir/bootstrap"
  if [[ -n "$dir" && -x "$artifact" ]]; then
    printf '  %-20s %s bytes\n' "$name" "$(stat -c %s "$artifact")"
  else
    echo "  $name: no executable $artifact" >&2
    missing=1
  fi
done <<< "$functions"
exit "$missing"
