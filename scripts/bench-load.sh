#!/usr/bin/env bash
# The webhook under load: wrk posts a new signed customer message on every request
# (local/load/webhook.lua) to the dev runner's webhook, with moto behind it, for LOAD_SECONDS
# (default 60), then reports requests per second, latency, the answers that were not 2xx, how many
# of the events were queued and recorded, and which process used the CPU, to tell what limits the
# rate. Writes target/bench/load.json; the runner's log and wrk's own files go to target/bench/load/.
#
# The stack is the one `make dev` runs (settings from .env.example and .env, the demo tenant's
# number), on ports and a stack prefix of its own so that it disturbs no `make dev` or test moto:
# LOAD_PORT (3190), LOAD_SANDBOX_PORT (3191), LOAD_MOTO_PORT (4596). LOAD_CONNECTIONS (32) and
# LOAD_THREADS (1) are wrk's -c and -t; LOAD_TIMEOUT (10 s, the webhook function's own timeout) is
# when wrk gives up on an answer, and latencies beyond it are not in its percentiles;
# LOAD_PROFILE=dev (default; the test build `make dev` and `make test` run, dependencies
# optimized) or release (the deployed profile: a fat-LTO link of the whole stack, minutes);
# LOAD_DRAIN_SECONDS (30) is how long to wait afterwards for the inbound consumer to empty its queue.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/bench
work="$out/load"
seconds="${LOAD_SECONDS:-60}"
connections="${LOAD_CONNECTIONS:-32}"
threads="${LOAD_THREADS:-1}"
timeout="${LOAD_TIMEOUT:-10}"
profile="${LOAD_PROFILE:-dev}"
drain_seconds="${LOAD_DRAIN_SECONDS:-30}"

if [ -z "${BENCH_LOAD_UNDER_MOTO:-}" ]; then
  for tool in wrk curl ss; do
    if ! command -v "$tool" > /dev/null; then
      echo "$tool is not installed; 'make bench-tools' installs wrk" >&2
      exit 1
    fi
  done
  if [ ! -x .venv/moto/bin/python ]; then
    echo "moto is not installed; run 'make .venv/moto/.installed'" >&2
    exit 1
  fi
  for n in "$seconds" "$connections" "$threads" "$timeout" "$drain_seconds"; do
    [[ "$n" =~ ^[0-9]+$ ]] || { echo "LOAD_* settings must be whole numbers, got '$n'" >&2; exit 2; }
  done
  # dev is the test build (`make test`'s, for the host's explicit target), reused as it is.
  host=$(rustc -vV | sed -n 's/^host: //p')
  case "$profile" in
    release) build=(--release) build_target="" runner=target/release/switchboard-dev ;;
    dev) build=() build_target="$host" runner="target/$host/debug/switchboard-dev" ;;
    *) echo "LOAD_PROFILE must be release or dev, got '$profile'" >&2; exit 2 ;;
  esac
  rm -rf "$work" "$out/load.json"
  mkdir -p "$work"
  echo "Building the local runner ($profile profile; the first release build takes several minutes)..."
  # The runner's path follows from the profile alone, whatever CARGO_BUILD_TARGET says.
  if [ -n "$build_target" ]; then
    CARGO_BUILD_TARGET="$build_target" cargo build -q --locked -p switchboard-dev --bin switchboard-dev
  else
    env -u CARGO_BUILD_TARGET cargo build -q --locked "${build[@]}" -p switchboard-dev --bin switchboard-dev
  fi

  # The settings `make dev` uses (scripts/dev.sh), then this bench's own ports and stack.
  set -a
  # shellcheck disable=SC1091
  source .env.example
  # shellcheck disable=SC1091
  [ -f .env ] && source .env
  set +a
  export PORT="${LOAD_PORT:-3190}" SANDBOX_PORT="${LOAD_SANDBOX_PORT:-3191}"
  export MOTO_PORT="${LOAD_MOTO_PORT:-4596}" STACK_PREFIX="${LOAD_STACK_PREFIX:-switchboard-load}"
  # The event counts below are read from the runner's info lines, the AWS calls per function
  # from the call log it writes when it stops.
  export RUST_LOG=info NO_COLOR=1 SWITCHBOARD_AWS_CALL_LOG="$PWD/$work/aws-calls"
  export BENCH_LOAD_UNDER_MOTO=1 BENCH_LOAD_RUNNER="$runner" BENCH_LOAD_STARTED="$(date +%s.%N)"
  exec scripts/with-moto.sh "$0"
fi

# From here on: under scripts/with-moto.sh, with AWS_ENDPOINT_URL pointing at our moto.
base="http://127.0.0.1:${PORT}"
url="$base/webhooks/whatsapp"
runner_log="$work/runner.log"

pid_on_port() {
  ss -ltnpH "sport = :$1" 2> /dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}
moto_pid=$(pid_on_port "$MOTO_PORT")
if [ -z "$moto_pid" ]; then
  echo "cannot find the moto process on port $MOTO_PORT" >&2
  exit 1
fi
# CPU seconds (utime + stime) a process has used so far.
cpu_seconds() {
  sed 's/.*) //' "/proc/$1/stat" | awk -v tick="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / tick }'
}
if [ -n "$(pid_on_port "$PORT")" ]; then
  echo "port $PORT is taken; set LOAD_PORT" >&2
  exit 1
fi

"$BENCH_LOAD_RUNNER" up > "$runner_log" 2>&1 &
runner_pid=$!
stop_runner() {
  # The runner stops on Ctrl-C (SIGINT); TERM only if it does not.
  kill -INT "$runner_pid" 2> /dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$runner_pid" 2> /dev/null || return 0
    sleep 0.1
  done
  kill -TERM "$runner_pid" 2> /dev/null || true
}
trap stop_runner EXIT

echo "Starting the dev runner on $base (provisions the stack in moto first)..."
ready=""
for _ in $(seq 1 1800); do
  if ! kill -0 "$runner_pid" 2> /dev/null; then
    echo "the dev runner exited; see $runner_log" >&2
    exit 1
  fi
  answer=$(curl -s --max-time 2 \
    "$url?hub.mode=subscribe&hub.verify_token=${META_VERIFY_TOKEN}&hub.challenge=load-ready" || true)
  if [ "$answer" = "load-ready" ]; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "the dev runner did not answer within 180 s; see $runner_log" >&2
  exit 1
fi

export LOAD_PHONE_NUMBER_ID="$DEMO_PHONE_NUMBER_ID" LOAD_DISPLAY_PHONE_NUMBER="$DEMO_DISPLAY_PHONE_NUMBER"
export LOAD_WABA_ID="$DEMO_WABA_ID" LOAD_RUN_ID="$(date +%s)"

echo "Checking the Lua HMAC-SHA256 against Python's and timing it..."
WEBHOOK_LUA_SELFTEST=1 wrk -s local/load/webhook.lua "$url" > "$work/selftest.txt"
python3 - "$work/selftest.txt" > "$work/selftest.json" <<'PY'
import hashlib, hmac, json, os, sys

vectors = 0
sample_ok = rfc_ok = False
rate = body_bytes = None
with open(sys.argv[1]) as f:
    for line in f:
        parts = line.rstrip("\n").split(" ")
        if parts[0] == "rfc4231":
            rfc_ok = parts[1] == "ok"
        elif parts[0] == "vector":
            key, msg, mac = bytes.fromhex(parts[1]), bytes.fromhex(parts[2]), parts[3]
            if hmac.new(key, msg, hashlib.sha256).hexdigest() != mac:
                sys.exit(f"webhook.lua: HMAC differs from Python's for a {len(key)}-byte key "
                         f"and a {len(msg)}-byte message")
            vectors += 1
        elif parts[0] == "sample":
            body = bytes.fromhex(parts[1])
            json.loads(body)
            secret = os.environ["META_APP_SECRET"].encode()
            sample_ok = hmac.new(secret, body, hashlib.sha256).hexdigest() == parts[2]
        elif parts[0] == "rate":
            rate, body_bytes = float(parts[1]), int(parts[2])
if not (rfc_ok and sample_ok and vectors and rate):
    sys.exit("webhook.lua: self-test incomplete or the sample request's signature is wrong")
json.dump({"self_test": "passed", "vectors_checked_against_python": vectors,
           "signed_requests_per_second_one_core": rate, "body_bytes": body_bytes}, sys.stdout)
PY
# It holds a sample body; only the verdict is kept.
rm -f "$work/selftest.txt"

echo "Load: wrk -t$threads -c$connections -d${seconds}s against $url..."
LOAD_WRK_JSON="$work/wrk.json" python3 - "$runner_pid" "$moto_pid" "$work/cpu.json" \
  wrk "-t$threads" "-c$connections" "-d${seconds}s" "--timeout=${timeout}s" --latency \
  -s local/load/webhook.lua "$url" \
  > "$work/wrk.txt" <<'PY'
# Runs wrk and measures the CPU time the runner, moto and wrk each used meanwhile, and the
# whole machine's: the machine is shared, so what the three did not use is someone else's.
import json, os, subprocess, sys, time

runner, moto, cpu_out, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
tick = os.sysconf("SC_CLK_TCK")

def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

def machine_busy():
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / tick

before = {"runner": process_cpu(runner), "moto": process_cpu(moto)}
busy_before, started, started_epoch = machine_busy(), time.monotonic(), time.time()
child = subprocess.Popen(command)
_, status, usage = os.wait4(child.pid, 0)
wall = time.monotonic() - started
busy = machine_busy() - busy_before
used = {
    "runner": process_cpu(runner) - before["runner"],
    "moto": process_cpu(moto) - before["moto"],
    "wrk": usage.ru_utime + usage.ru_stime,
}
json.dump({"wall_seconds": wall, "started_epoch": started_epoch, "cpu_seconds": used,
           "machine_busy_cpu_seconds": busy, "machine_cores": os.cpu_count()}, open(cpu_out, "w"))
sys.exit(os.waitstatus_to_exitcode(status))
PY

echo "Waiting up to ${drain_seconds} s for the inbound consumer to empty its queue..."
queue_depth() {
  .venv/moto/bin/python - "$1" <<'PY'
import sys
import boto3

sqs = boto3.client("sqs")
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))
PY
}
drain_started=$(date +%s.%N)
drain_cpu_before="$(cpu_seconds "$runner_pid") $(cpu_seconds "$moto_pid")"
left=$(queue_depth "$STACK_PREFIX-inboundqueue")
while [ "$left" != 0 ] && awk "BEGIN { exit !($(date +%s.%N) - $drain_started < $drain_seconds) }"; do
  sleep 1
  left=$(queue_depth "$STACK_PREFIX-inboundqueue")
done
drain_ended=$(date +%s.%N)
drain_cpu_after="$(cpu_seconds "$runner_pid") $(cpu_seconds "$moto_pid")"
dead=$(queue_depth "$STACK_PREFIX-inbounddeadletterqueue")
stop_runner
trap - EXIT
wait "$runner_pid" 2> /dev/null || true

WORK="$work" OUT="$out" URL="$url" SECONDS_SET="$seconds" CONNECTIONS="$connections" THREADS="$threads" \
  PROFILE="$profile" TIMEOUT="$timeout" QUEUE_LEFT="$left" DEAD_LETTERS="$dead" \
  DRAIN_STARTED="$drain_started" DRAIN_ENDED="$drain_ended" DRAIN_CPU_BEFORE="$drain_cpu_before" \
  DRAIN_CPU_AFTER="$drain_cpu_after" DRAIN_SECONDS="$drain_seconds" STACK="$STACK_PREFIX" \
  STARTED="$BENCH_LOAD_STARTED" python3 - <<'PY'
import collections, datetime, glob, json, os, re, time

work, out = os.environ["WORK"], os.environ["OUT"]
wrk = json.load(open(f"{work}/wrk.json"))
cpu = json.load(open(f"{work}/cpu.json"))
lua = json.load(open(f"{work}/selftest.json"))

# What the runner's info lines say became of the events: the webhook's accepted batches
# (enqueued / duplicates / in progress), quarantined bodies, and the inbound consumer's records.
accepted = {"requests": 0, "events": 0, "enqueued": 0, "duplicates": 0, "in_progress": 0}
recorded = {"new": 0, "duplicate": 0}
quarantined = rejected = not_enqueued = 0
drain_started, drain_ended = float(os.environ["DRAIN_STARTED"]), float(os.environ["DRAIN_ENDED"])
recorded_in_drain = 0
# Per 10 s of the load: requests the webhook accepted and requests it answered with an error,
# to show whether the rate holds as moto's tables fill.
load_started = cpu["started_epoch"]
timeline = collections.defaultdict(lambda: {"accepted": 0, "errors": 0})
field = lambda line, name: int(re.search(rf"\b{name}=(\d+)", line)[1])

def logged_at(line):
    try:
        return datetime.datetime.fromisoformat(line.split()[0]).timestamp()
    except (ValueError, IndexError):
        return None

with open(f"{work}/runner.log", errors="replace") as f:
    for line in f:
        if "webhook events accepted" in line:
            accepted["requests"] += 1
            for name in ("events", "enqueued", "duplicates", "in_progress"):
                accepted[name] += field(line, name)
            at = logged_at(line)
            if at is not None:
                timeline[int((at - load_started) // 10) * 10]["accepted"] += 1
        elif "inbound message recorded" in line:
            recorded["duplicate" if "duplicate=true" in line else "new"] += 1
            at = logged_at(line)
            if at is not None:
                recorded_in_drain += drain_started <= at <= drain_ended
        elif "webhook body quarantined" in line:
            quarantined += 1
        elif "webhook rejected" in line:
            rejected += 1
        elif "not enqueued" in line:
            not_enqueued += 1
            at = logged_at(line)
            if at is not None:
                timeline[int((at - load_started) // 10) * 10]["errors"] += 1

# The AWS calls each function made, from the call log the runner wrote as it stopped.
calls = collections.Counter()
for path in glob.glob(f"{work}/aws-calls/{os.environ['STACK']}.jsonl"):
    with open(path) as f:
        for line in f:
            call = json.loads(line)
            calls[(call["function"], call["operation"])] += 1
by_function = collections.defaultdict(dict)
for (function, operation), n in sorted(calls.items()):
    by_function[function][operation] = n
function_total = lambda name: sum(by_function.get(name, {}).values())

drain_wall = drain_ended - drain_started
drain_cpu = [b - a for a, b in zip(map(float, os.environ["DRAIN_CPU_BEFORE"].split()),
                                   map(float, os.environ["DRAIN_CPU_AFTER"].split()))]

requests = wrk["requests"]
duration = wrk["duration_us"] / 1e6
statuses = {str(k): v for k, v in sorted(wrk["status_counts"].items(), key=lambda kv: int(kv[0]))}
ok = sum(v for k, v in statuses.items() if 200 <= int(k) < 300)
socket_errors = wrk["socket_errors"]
lat = {k: v / 1000 for k, v in wrk["latency_us"].items()}

wall = cpu["wall_seconds"]
used = cpu["cpu_seconds"]
ours = sum(used.values())
processes = {
    name: {"cpu_seconds": round(s, 2), "cores": round(s / wall, 3),
           "share_of_measured": round(s / ours, 3) if ours else None}
    for name, s in used.items()
}
others = max(0.0, cpu["machine_busy_cpu_seconds"] - ours)
cores = cpu["machine_cores"]
machine_busy_cores = cpu["machine_busy_cpu_seconds"] / wall

# The limit: moto is one Python process and serializes DynamoDB requests (moto_server.py), so
# about one core is all it can use; wrk is one LuaJIT thread per -t; the runner is multi-threaded.
# moto's TransactWriteItems copies the tables it touches, so the inbound consumer's transactions
# grow slower with the table and hold that lock longer: per_10_seconds shows the rate falling.
# AWS does not behave so; the runner's own CPU per request is the number that carries over.
threads = int(os.environ["THREADS"])
rps = requests / duration
signing_cap = lua["signed_requests_per_second_one_core"] * threads
if processes["moto"]["cores"] >= 0.85:
    bottleneck = "moto"
    why = (f"moto used {processes['moto']['cores']:.2f} of a core: one Python process whose "
           "DynamoDB requests are serialized, so it cannot go faster; the runner used "
           f"{processes['runner']['cores']:.2f} cores")
elif processes["wrk"]["cores"] >= 0.85 * threads:
    bottleneck = "wrk"
    why = (f"wrk used {processes['wrk']['cores']:.2f} cores for {threads} thread(s): the load "
           "generator, not the server, set the rate")
elif processes["runner"]["cores"] >= 0.85 * cores:
    bottleneck = "runner"
    why = f"the runner used {processes['runner']['cores']:.2f} of {cores} cores"
elif machine_busy_cores >= 0.9 * cores:
    top = max(processes, key=lambda p: processes[p]["cpu_seconds"])
    bottleneck = "machine"
    why = (f"the machine's {cores} cores were {machine_busy_cores / cores:.0%} busy, "
           f"{others / wall:.2f} cores of it by other processes; of the three, {top} used the most "
           f"({processes[top]['cores']:.2f} cores, {processes[top]['share_of_measured']:.0%})")
else:
    top = max(processes, key=lambda p: processes[p]["cpu_seconds"])
    bottleneck = "latency"
    why = (f"no process saturated a core (most: {top}, {processes[top]['cores']:.2f} cores): each "
           f"request waits on its AWS round trips to moto, {int(os.environ['CONNECTIONS'])} at a time")

inbound_rate = recorded_in_drain / drain_wall if drain_wall else None
if inbound_rate is not None and recorded_in_drain and inbound_rate < 0.9 * rps:
    why += (f"; behind the webhook, the inbound consumer records only {inbound_rate:.1f} messages/s "
            "against moto, so its queue grows while the load lasts")

result = {
    "status": "measured",
    "url": os.environ["URL"],
    "runner_profile": os.environ["PROFILE"],
    "seconds": int(os.environ["SECONDS_SET"]),
    "connections": int(os.environ["CONNECTIONS"]),
    "threads": threads,
    "duration_seconds": round(duration, 2),
    "requests": requests,
    "requests_per_second": round(rps, 1),
    "latency_ms": {k: round(v, 2) for k, v in lat.items()},
    "status_counts": statuses,
    "ok_2xx": ok,
    "non_2xx": requests - ok,
    "socket_errors": socket_errors,
    # Answers that were not 2xx, of all answers; wrk's socket errors are beside it (a "timeout"
    # there is a request with no answer within LOAD_TIMEOUT, counted at every 2 s check).
    "error_rate": round((requests - ok) / requests, 5) if requests else None,
    "timeout_seconds": int(os.environ["TIMEOUT"]),
    # Requests wrk signed; the last few were still in flight when it stopped.
    "requests_built": wrk["requests_built"],
    "per_10_seconds": [{"from_second": k, **v} for k, v in sorted(timeline.items()) if k >= 0],
    "events": {
        "webhook_requests_accepted": accepted["requests"],
        "enqueued": accepted["enqueued"],
        "duplicates": accepted["duplicates"],
        "in_progress": accepted["in_progress"],
        "quarantined_bodies": quarantined,
        "signature_rejected": rejected,
        "not_enqueued_errors": not_enqueued,
        "recorded_by_inbound": recorded["new"],
        "recorded_again_as_duplicate": recorded["duplicate"],
        "inbound_queue_left": int(os.environ["QUEUE_LEFT"]),
        "inbound_dead_letters": int(os.environ["DEAD_LETTERS"]),
        "drain_seconds": round(drain_wall, 1),
        "drain_limit_seconds": int(os.environ["DRAIN_SECONDS"]),
        # The inbound consumer alone (no webhook load), while the queue drained.
        "recorded_per_second_during_drain": round(recorded_in_drain / drain_wall, 2) if drain_wall else None,
        "drain_cores": {"runner": round(drain_cpu[0] / drain_wall, 3) if drain_wall else None,
                        "moto": round(drain_cpu[1] / drain_wall, 3) if drain_wall else None},
    },
    # Load and drain together; the pollers' own ReceiveMessage / DeleteMessageBatch are not in it.
    "aws_calls": {
        "by_function": by_function,
        "webhook_per_accepted_request": round(function_total("WebhookFunction") / accepted["requests"], 2)
        if accepted["requests"] else None,
        "inbound_per_recorded_message": round(function_total("InboundFunction") / recorded["new"], 2)
        if recorded["new"] else None,
        # moto's CPU over load and drain per call the functions made: an upper bound, as the
        # pollers' ReceiveMessage and DeleteMessageBatch are served too but not counted.
        "moto_cpu_ms_per_call": round(1000 * (used["moto"] + drain_cpu[1]) / sum(calls.values()), 1)
        if calls else None,
    },
    "cpu": {
        "wall_seconds": round(wall, 2),
        "machine_cores": cores,
        "machine_busy_cores": round(machine_busy_cores, 3),
        "other_processes_cores": round(others / wall, 3),
        "processes": processes,
    },
    "bottleneck": bottleneck,
    "bottleneck_reason": why,
    "lua_signing": {
        **lua,
        "caps_wrk": rps >= 0.85 * signing_cap,
    },
    "total_seconds": round(time.time() - float(os.environ["STARTED"]), 1),
}
with open(f"{out}/load.json", "w") as f:
    json.dump(result, f, indent=2)

e = result["events"]
print()
print(f"Webhook load: wrk -t{threads} -c{result['connections']} for {duration:.0f} s, signed "
      f"distinct text messages, runner ({result['runner_profile']}) + moto")
print(f"  {'requests/s':<34}{rps:>10,.1f}   ({requests} requests, {ok} answered 2xx)")
print(f"  {'latency p50 / p90 / p99':<34}{lat['p50']:>10.1f} / {lat['p90']:.1f} / {lat['p99']:.1f} ms")
print(f"  {'error rate (non-2xx answers)':<34}{result['error_rate']:>10.2%}   statuses {statuses}, "
      f"socket errors {socket_errors}")
print(f"  {'events enqueued / recorded':<34}{e['enqueued']:>10} / {e['recorded_by_inbound']}   "
      f"(duplicates {e['duplicates']}, quarantined {e['quarantined_bodies']}, left in queue "
      f"{e['inbound_queue_left']} after {e['drain_seconds']:.0f} s, dead letters {e['inbound_dead_letters']})")
if e["recorded_per_second_during_drain"] is not None:
    print(f"  {'inbound consumer alone':<34}{e['recorded_per_second_during_drain']:>10.1f} messages/s   "
          f"(moto {e['drain_cores']['moto']:.2f} cores, runner {e['drain_cores']['runner']:.2f})")
a = result["aws_calls"]
if a["webhook_per_accepted_request"] is not None:
    print(f"  {'AWS calls per webhook request':<34}{a['webhook_per_accepted_request']:>10.2f}   "
          f"per recorded message (inbound): {a['inbound_per_recorded_message']}; moto CPU per call "
          f"<= {a['moto_cpu_ms_per_call']} ms")
if result["per_10_seconds"]:
    print(f"  {'accepted per 10 s':<34}" + " ".join(str(b["accepted"]) for b in result["per_10_seconds"]))
shares = ", ".join(f"{n} {p['cpu_seconds']:.1f} s ({p['cores']:.2f} cores, {p['share_of_measured']:.0%})"
                   for n, p in processes.items())
print(f"  {'CPU':<34}{shares}; others {others / wall:.2f} cores")
print(f"  {'bottleneck':<34}{bottleneck}: {why}")
print(f"  {'Lua signing (one core)':<34}{lua['signed_requests_per_second_one_core']:>10,.0f} requests/s"
      f"{'   -- caps wrk' if result['lua_signing']['caps_wrk'] else ''}")
print(f"Report: {out}/load.json ({result['total_seconds']:.0f} s in all)")
PY
