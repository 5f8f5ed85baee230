#!/usr/bin/env bash
# `make bench`: webhook throughput on one core, Switchboard (Rust) against pywa on the very same
# signed requests, and the size of the webhook Lambda's bootstrap. Prints a table and writes
# target/bench/report.json.
#
# Both sides count updates (webhook bodies) per second of their thread's CPU time in rounds
# and keep the best round, as timeit does: on a shared machine other load only ever slows a
# round down. The two alternate BENCH_RUNS times (default 3), and the best of all their rounds
# is compared; medians are recorded beside. BENCH_SECONDS (default 5) is the measuring time
# of each Rust run and each pywa run.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/bench
python=.venv/bench/bin/python
seconds="${BENCH_SECONDS:-5}"
runs="${BENCH_RUNS:-3}"
app_secret="switchboard-bench-app-secret"
ratio_target=20
size_target_mb=10

if [ ! -x "$python" ]; then
  echo "pywa is not installed; run 'make bench', which installs it into .venv/bench" >&2
  exit 1
fi
mkdir -p "$out"
rm -f "$out"/rust-*.json "$out"/pywa-*.json "$out"/report.json

echo "Building the Rust bench (release profile; the first build takes a few minutes)..."
cargo bench -q -p switchboard-meta --bench webhook_throughput --no-run

for i in $(seq 1 "$runs"); do
  echo "run $i/$runs"
  cargo bench -q -p switchboard-meta --bench webhook_throughput -- \
    --seconds "$seconds" --app-secret "$app_secret" \
    --corpus-out "$PWD/$out/corpus.jsonl" --json "$PWD/$out/rust-$i.json"
  "$python" local/python/pywa_bench.py --corpus "$out/corpus.jsonl" --app-secret "$app_secret" \
    --seconds "$seconds" --json "$out/pywa-$i.json"
done

echo "Building the webhook bootstrap (release)..."
bootstrap=target/release/webhook
size_status="built"
if ! cargo build -q --release -p switchboard-webhook --bin webhook > "$out/webhook-build.log" 2>&1; then
  size_status="does not build yet (see $out/webhook-build.log)"
  bootstrap=""
fi

OUT="$out" RATIO_TARGET="$ratio_target" SIZE_TARGET_MB="$size_target_mb" \
  BOOTSTRAP="$bootstrap" SIZE_STATUS="$size_status" python3 - <<'PY'
import glob, json, os, shutil, statistics, subprocess, tempfile

out = os.environ["OUT"]
ratio_target = float(os.environ["RATIO_TARGET"])
size_target_mb = float(os.environ["SIZE_TARGET_MB"])

def runs(side):
    paths = sorted(glob.glob(f"{out}/{side}-*.json"))
    return [json.load(open(p)) for p in paths]

def best(results, key):
    return max(r[key] for r in results)

def median(results, key):
    return statistics.median(r[key] for r in results)

rust, pywa = runs("rust"), runs("pywa")
rust_rate = best(rust, "updates_per_second")
pywa_rate = best(pywa, "updates_per_second")
ratio = rust_rate / pywa_rate

bootstrap = os.environ["BOOTSTRAP"]
size = {"path": "target/release/webhook", "status": os.environ["SIZE_STATUS"],
        "target_mb": size_target_mb, "bytes": None, "mb": None, "met": None}
if bootstrap and os.path.exists(bootstrap):
    stripped = bootstrap
    # The release profile strips already; strip a copy anyway so the number is the stripped one.
    if shutil.which("strip"):
        tmp = tempfile.NamedTemporaryFile(delete=False)
        tmp.close()
        subprocess.run(["strip", "-o", tmp.name, bootstrap], check=True)
        stripped = tmp.name
    size["bytes"] = os.path.getsize(stripped)
    size["mb"] = size["bytes"] / 1e6
    size["met"] = size["mb"] <= size_target_mb
    if stripped != bootstrap:
        os.unlink(stripped)

report = {
    "clock": rust[0]["clock"],
    "cases": rust[0]["cases"],
    "events": rust[0]["events"],
    "runs": len(rust),
    "rust": {
        "updates_per_second": rust_rate,
        "median_updates_per_second": median(rust, "median_updates_per_second"),
        "ns_per_update": 1e9 / rust_rate,
        "verify_only_updates_per_second": best(rust, "verify_only_updates_per_second"),
        "parse_route_only_updates_per_second": best(rust, "parse_route_only_updates_per_second"),
        "naive_updates_per_second": best(rust, "naive_updates_per_second"),
        "runs": [r["updates_per_second"] for r in rust],
    },
    "pywa": {
        "version": pywa[0]["pywa_version"],
        "python": pywa[0]["python"],
        "updates_per_second": pywa_rate,
        "median_updates_per_second": median(pywa, "median_updates_per_second"),
        "runs": [r["updates_per_second"] for r in pywa],
        "cases_without_typed_handler": pywa[0]["cases_without_typed_handler"],
    },
    "ratio": ratio,
    "median_ratio": median(rust, "median_updates_per_second") / median(pywa, "median_updates_per_second"),
    "ratio_target": ratio_target,
    "ratio_met": ratio >= ratio_target,
    "bootstrap": size,
}
with open(f"{out}/report.json", "w") as f:
    json.dump(report, f, indent=2)

met = lambda ok: "met" if ok else "NOT met"
r = report["rust"]
print()
print(f"Webhook verify + parse + route, one core, {report['cases']} conformance cases "
      f"(updates/s of {report['clock']}, best round of {report['runs']} runs)")
print(f"  {'Rust (switchboard-meta)':<28}{rust_rate:>12,.0f}")
print(f"  {'pywa ' + report['pywa']['version']:<28}{pywa_rate:>12,.0f}")
print(f"  {'ratio':<28}{ratio:>11.1f}x   target >= {ratio_target:.0f}x: {met(report['ratio_met'])}")
print(f"  (ratio of median rounds: {report['median_ratio']:.1f}x)")
print(f"  Rust parts: verify {r['verify_only_updates_per_second']:,.0f}/s, "
      f"parse+route {r['parse_route_only_updates_per_second']:,.0f}/s; naive Rust "
      f"(per-request HMAC + serde_json::Value) {r['naive_updates_per_second']:,.0f}/s = "
      f"{r['naive_updates_per_second'] / pywa_rate:.1f}x pywa")
skipped = len(report["pywa"]["cases_without_typed_handler"])
if skipped:
    print(f"  ({skipped} cases reach only pywa's raw-update handler: it has no group handlers and "
          f"fails on contacts without user_id)")
if size["bytes"] is None:
    print(f"Webhook bootstrap: size unavailable, {size['status']}")
else:
    print(f"Webhook bootstrap ({size['path']}, stripped): {size['mb']:.1f} MB   "
          f"target <= {size_target_mb:.0f} MB: {met(size['met'])}")
print(f"Report: {out}/report.json")
PY
