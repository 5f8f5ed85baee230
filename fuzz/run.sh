#!/usr/bin/env bash
# Builds the fuzz targets and runs each for FUZZ_SECONDS (default 60); fails if any target
# crashes, hangs or panics. `make fuzz` runs it with a project-local cargo-fuzz.
#
#   fuzz/run.sh                 every target
#   fuzz/run.sh webhook_parse   just these
#
# Corpora live in target/fuzz-corpus/<target>/ (git-ignored), seeded from the conformance data
# on every run and grown by libFuzzer across runs; crashes are saved in fuzz/artifacts/<target>/.
# Reproduce one with `cargo fuzz run <target> fuzz/artifacts/<target>/crash-…` from this folder
# (RUSTC_BOOTSTRAP=1), then keep it as a #[test] in the crate that owns the parser.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
conformance="${SWITCHBOARD_CONFORMANCE_DIR:-$root/../shared/conformance}"
corpus="$root/target/fuzz-corpus"
# cargo-fuzz needs nightly-only flags; the stable toolchain accepts them under this.
export RUSTC_BOOTSTRAP=1
export PATH="$root/.venv/cargo/bin:$PATH"

cd "$root/fuzz"
python3 seed-corpus.py "$conformance" "$corpus"
cargo fuzz build
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
    mkdir -p "$corpus/$target"
    flags=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1)
    if [ -f "dicts/$target.dict" ]; then
        flags+=(-dict="dicts/$target.dict")
    fi
    echo "== fuzz $target for ${seconds}s"
    if ! cargo fuzz run "$target" "$corpus/$target" -- "${flags[@]}"; then
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}; inputs in fuzz/artifacts/" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
