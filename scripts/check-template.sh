#!/usr/bin/env bash
# Checks template.yaml the way a deployment would use it: cfn-lint, checkov, the template's own
# rules (below), `sam validate --lint`, then `sam build` of every function, all offline. Run
# through `make template-check`, which installs the pinned tools into .venv/tools and checkov
# into .venv/checkov first.
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
checkov="$PWD/.venv/checkov/bin/checkov"
if [[ ! -x "$checkov" ]]; then
  echo "checkov missing: run 'make .venv/checkov/.installed'" >&2
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

# Every check must pass or be skipped in the template itself, by the resource's
# `Metadata: checkov: skip:` entries, each with its reason as the comment. Offline: no platform
# download, no version check. checkov exits 0 on a template it cannot parse, so its JSON
# summary decides too.
step "checkov template.yaml"
started=$(date +%s)
report=$(mktemp)
trap 'rm -f "$report"' EXIT
checkov_status=0
CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE "$checkov" --file template.yaml \
  --framework cloudformation --skip-download --quiet --compact \
  --output cli --output json --output-file-path "console,$report" || checkov_status=$?
"$tools/python" - "$report" "$checkov_status" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    s = json.load(f)["summary"]
print(f"checkov {s['checkov_version']}: {s['passed']} passed, {s['failed']} failed, {s['skipped']} skipped"
      f" (in the template, with reasons), {s['parsing_errors']} parsing errors, {s['resource_count']} resources")
ok = sys.argv[2] == "0" and s["failed"] == s["parsing_errors"] == 0 and s["passed"] > 0
sys.exit(0 if ok else 1)
PY
echo "checkov took $(seconds "$started") s"

# What the template must keep that the linters do not know: no wildcard grants on data, an
# Errors and a Throttles alarm for every function, an alarm on every dead-letter queue, the
# webhook's 5xx alarm, and a reason for every checkov skip.
step "template rules"
"$tools/python" - template.yaml <<'PY'
import sys
from samcli.yamlhelper import yaml_parse

with open(sys.argv[1]) as f:
    resources = yaml_parse(f.read())["Resources"]
failures = []


def of_type(kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(node, path):
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            for i, statement in enumerate(node["Statement"]):
                yield f"{path}.Statement[{i}]", statement
        for key, value in node.items():
            yield from statements(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from statements(value, f"{path}[{i}]")


# 1. No policy of the template allows "*" or "<service>:*" on the data services. The one
# exception is KMS's default key policy statement for the account root: it hands the key over to
# IAM policies, which are the ones checked here.
DATA = ("dynamodb", "s3", "sqs", "kms")
ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
checked = 0
for name, resource in resources.items():
    for path, statement in statements(resource.get("Properties", {}), name):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or (
            resource["Type"] == "AWS::KMS::Key" and isinstance(principal, dict) and principal.get("AWS") == ROOT
        ):
            continue
        checked += 1
        for action in as_list(statement.get("Action", [])):
            if action == "*" or action in [f"{service}:*" for service in DATA]:
                failures.append(f"{path} allows {action}")
functions = of_type("AWS::Serverless::Function")
for name, function in functions.items():
    for policy in as_list(function["Properties"].get("Policies", [])):
        if isinstance(policy, str):
            failures.append(f"{name} attaches managed policy {policy}, whose actions are not in the template")
print(f"  {checked} allowing policy statements: none allows * or <service>:* for {', '.join(DATA)}")

# 2. Alarms, found by metric and dimensions, that notify someone.
alarms = [alarm["Properties"] for alarm in of_type("AWS::CloudWatch::Alarm").values()]


def alarmed(namespace, metric, **dimensions):
    for alarm in alarms:
        dims = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
        if (alarm.get("Namespace"), alarm.get("MetricName")) == (namespace, metric) and alarm.get("AlarmActions") and all(
            dims.get(k) == v for k, v in dimensions.items()
        ):
            return True
    return False


for name in functions:
    for metric in ("Errors", "Throttles"):
        if not alarmed("AWS/Lambda", metric, FunctionName={"Ref": name}):
            failures.append(f"{name} has no {metric} alarm")
print(f"  {len(functions)} functions, each with an Errors and a Throttles alarm: {', '.join(functions)}")

dead_letter_queues = sorted(
    queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    for queue in of_type("AWS::SQS::Queue").values()
    if "RedrivePolicy" in queue["Properties"]
)
for name in dead_letter_queues:
    if not alarmed("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName={"Fn::GetAtt": [name, "QueueName"]}):
        failures.append(f"dead-letter queue {name} has no alarm on the messages it holds")
print(f"  {len(dead_letter_queues)} dead-letter queues, each alarmed when it holds a message: {', '.join(dead_letter_queues)}")

webhook_routes = [
    (event["Properties"]["ApiId"], f"POST {event['Properties']['Path']}")
    for function in functions.values()
    for event in function["Properties"].get("Events", {}).values()
    if event["Type"] == "HttpApi"
    and event["Properties"]["Method"] == "POST"
    and event["Properties"]["Path"].startswith("/webhooks/")
]
if not webhook_routes:
    failures.append("no POST /webhooks/... route")
for api, route in webhook_routes:
    if not alarmed("AWS/ApiGateway", "5xx", ApiId=api, Route=route):
        failures.append(f"webhook route {route} has no 5xx alarm")
print(f"  webhook 5xx alarm on {', '.join(route for _, route in webhook_routes)}")

# 3. A reason for every checkov skip.
skips = [
    (name, skip)
    for name, resource in resources.items()
    for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
]
for name, skip in skips:
    if not str(skip.get("comment", "")).strip():
        failures.append(f"{name}: checkov skip {skip.get('id')} has no reason")
print(f"  {len(skips)} checkov skips, each with a reason")

for failure in failures:
    print(f"  FAILED: {failure}", file=sys.stderr)
sys.exit(1 if failures else 0)
PY

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
