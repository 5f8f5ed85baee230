#!/usr/bin/env bash
# Instructions per webhook update, counted by valgrind's callgrind: a count of executed
# instructions does not move with the machine's load, so two runs of the same binary on the same
# corpus agree to the instruction and a change to the parser shows up even on a busy machine.
# Writes target/bench/callgrind.json.
#
# The webhook_throughput bench runs the conformance corpus exactly N and 2N times
# (`--only STAGE --passes N`); the difference of the two totals is N passes' instructions with
# startup and corpus loading cancelled out, divided by the updates in those N passes. Stages:
# verify (the X-Hub-Signature-256 check), route (parse + split into events) and full (both, as
# the webhook function does them). The 2N run is repeated and must give the same total, and one
# more run counts inside the measured loop only (`--toggle-collect`) as a cross-check and for the
# functions that cost the most.
#
# CALLGRIND_PASSES (default 20) is N. valgrind hides SHA-NI from the program, so sha2 takes its
# portable assembly path under it: verify's count is that path's, not the one timed natively.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/bench
work="$out/callgrind"
passes="${CALLGRIND_PASSES:-20}"
stages=(verify route full)

if ! command -v valgrind > /dev/null; then
  echo "valgrind is not installed; 'make bench-tools' installs it" >&2
  exit 1
fi
if ! [[ "$passes" =~ ^[1-9][0-9]*$ ]]; then
  echo "CALLGRIND_PASSES must be a positive whole number, got '$passes'" >&2
  exit 2
fi
rm -rf "$work" "$out/callgrind.json"
mkdir -p "$work"
started=$(date +%s.%N)

echo "Building the webhook bench (bench profile)..."
bin=$(cargo bench -q -p switchboard-meta --bench webhook_throughput --no-run --message-format=json \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "webhook_throughput" \
            and m.get("executable"):
        print(m["executable"])
')
if [ ! -x "$bin" ]; then
  echo "could not find the webhook_throughput bench binary" >&2
  exit 1
fi

# One callgrind run; `name` names its files under $work. The bench's own stdout (how many updates
# it ran) goes to $work/name.stdout, valgrind's messages to $work/name.log.
count() {
  local name=$1
  shift
  valgrind --tool=callgrind --log-file="$work/$name.log" --callgrind-out-file="$work/$name.out" \
    "$@" > "$work/$name.stdout"
}

twice=$((2 * passes))
for stage in "${stages[@]}"; do
  echo "callgrind: $stage, 0 / $passes / $twice / $twice passes, then $passes inside the loop only..."
  count "$stage-0" "$bin" --only "$stage" --passes 0
  count "$stage-$passes" "$bin" --only "$stage" --passes "$passes"
  count "$stage-$twice" "$bin" --only "$stage" --passes "$twice"
  count "$stage-$twice-again" "$bin" --only "$stage" --passes "$twice"
  count "$stage-loop" --toggle-collect='*run_passes*' "$bin" --only "$stage" --passes "$passes"
  callgrind_annotate --threshold=100 "$work/$stage-loop.out" > "$work/$stage-loop.annotate" 2> /dev/null || true
done

WORK="$work" OUT="$out" PASSES="$passes" BIN="$bin" STAGES="${stages[*]}" STARTED="$started" \
  python3 - <<'PY'
import json, os, re, subprocess, time

work, out, passes, binary = os.environ["WORK"], os.environ["OUT"], int(os.environ["PASSES"]), os.environ["BIN"]
stages = os.environ["STAGES"].split()
twice = 2 * passes

def total(name):
    with open(f"{work}/{name}.out") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise SystemExit(f"{work}/{name}.out has no instruction total")

def updates(name):
    # "rust: 1800 updates verify only (90 cases x 20 passes)"
    with open(f"{work}/{name}.stdout") as f:
        m = re.search(r"rust: (\d+) updates .*\((\d+) cases x (\d+) passes\)", f.read())
    if not m:
        raise SystemExit(f"{work}/{name}.stdout: unexpected output")
    return int(m[1]), int(m[2])

# callgrind names a few assembly routines only by address (no symbol size); the binary's own
# symbol table says which routine starts at or before it.
symbols = []
try:
    nm = subprocess.run(["nm", "-C", "--defined-only", binary], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tT":
            symbols.append((int(parts[0], 16), parts[2]))
    symbols.sort()
except (OSError, subprocess.CalledProcessError):
    pass

def name_of(address):
    best = None
    for start, name in symbols:
        if start > address:
            break
        best = name
    return best

def top_functions(stage, loop_total, loop_updates, limit=8):
    path = f"{work}/{stage}-loop.annotate"
    if not os.path.exists(path):
        return []
    rows = []
    pattern = re.compile(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*?)(?:\s+\[[^\]]*\])?$")
    with open(path) as f:
        for line in f:
            m = pattern.match(line)
            if not m or "PROGRAM TOTALS" in m[2]:
                continue
            ir = int(m[1].replace(",", ""))
            function = m[2].split(":", 1)[1] if m[2].startswith("???:") else m[2]
            if re.fullmatch(r"0x[0-9a-f]+", function):
                function = name_of(int(function, 16)) or function
            rows.append({
                "function": function[:160],
                "instructions_per_update": round(ir / loop_updates, 1),
                "share": round(ir / loop_total, 4),
            })
    rows.sort(key=lambda r: -r["share"])
    return rows[:limit]

result = {
    "tool": "valgrind --tool=callgrind",
    "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip(),
    "binary": "webhook_throughput (bench profile)",
    "method": f"(Ir at {twice} passes - Ir at {passes} passes) / updates in {passes} passes",
    "passes": passes,
    "stages": {},
}
repeatable = True
for stage in stages:
    n_updates, cases = updates(f"{stage}-{passes}")
    loop_updates, _ = updates(f"{stage}-loop")
    runs = {str(k): total(f"{stage}-{k}") for k in (0, passes, twice)}
    runs[f"{twice}_again"] = total(f"{stage}-{twice}-again")
    loop_total = total(f"{stage}-loop")
    same = runs[str(twice)] == runs[f"{twice}_again"]
    repeatable &= same
    entry = {
        "instructions_per_update": round((runs[str(twice)] - runs[str(passes)]) / n_updates, 1),
        # Counted from zero passes instead: also holds whatever the first pass costs only once.
        "instructions_per_update_from_zero": round((runs[str(passes)] - runs["0"]) / n_updates, 1),
        # Counted inside the measured loop only.
        "instructions_per_update_in_loop": round(loop_total / loop_updates, 1),
        "startup_instructions": runs["0"],
        "updates_per_run": n_updates,
        "total_instructions": runs,
        "repeatable": same,
        "top_functions": top_functions(stage, loop_total, loop_updates),
    }
    result["cases"] = cases
    result["stages"][stage] = entry
result["updates_per_pass"] = result["cases"]
result["repeatable"] = repeatable

verify_top = " ".join(f["function"] for f in result["stages"].get("verify", {}).get("top_functions", []))
if "sha256::x86" in verify_top:
    backend = "SHA-NI"
elif "sha256_compress" in verify_top:
    backend = "sha2-asm (portable x86-64 assembly; valgrind hides SHA-NI)"
elif "soft" in verify_top:
    backend = "soft (portable Rust)"
else:
    backend = "unknown"
result["sha256_backend_under_valgrind"] = backend
result["seconds"] = round(time.time() - float(os.environ["STARTED"]), 1)

with open(f"{out}/callgrind.json", "w") as f:
    json.dump(result, f, indent=2)

print()
print(f"Instructions per webhook update (callgrind, {result['cases']} cases, "
      f"{passes} vs {twice} passes; repeatable: {'yes' if repeatable else 'NO'})")
for stage, label in (("verify", "signature verify"), ("route", "parse + route"), ("full", "verify + parse + route")):
    if stage in result["stages"]:
        e = result["stages"][stage]
        print(f"  {label:<28}{e['instructions_per_update']:>12,.0f}   (inside the loop: "
              f"{e['instructions_per_update_in_loop']:,.0f})")
print(f"  SHA-256 under valgrind: {backend}")
print(f"Report: {out}/callgrind.json ({result['seconds']:.0f} s)")
if not repeatable:
    raise SystemExit("callgrind: the same run gave two different totals")
PY
