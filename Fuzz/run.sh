#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift: release, fuzzer + AddressSanitizer) and
# runs each for FUZZ_SECONDS (default 60) from its committed seeds (Fuzz/corpus/NAME). What a
# run finds goes to Fuzz/.build/fuzz/: the grown corpus (corpus/NAME, reused by the next run),
# crash inputs (crashes/NAME-crash-…) and each run's log (NAME.log). Exits non-zero if any
# target crashed, leaked, timed out or ran out of memory.
#
#   FUZZ_SECONDS=600 FUZZ_TARGETS="input snapshot" Fuzz/run.sh
#   Fuzz/.build/release/FuzzSnapshot Fuzz/.build/fuzz/crashes/snapshot-crash-…   (replay one)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-input control modelfile snapshot config}
# SwiftPM passes -sanitize=fuzzer and -sanitize=address to swiftc as two flags, and swiftc keeps
# only the last (no coverage in Swift code): the -Xswiftc flag, which comes after, names both.
flags=(-c release --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing)

start=$(date +%s)
# The progress lines are dropped; grep finding nothing else is no failure, so that (pipefail)
# the pipeline fails exactly when the build does.
if ! swift build "${flags[@]}" 2>&1 | { grep -v '^\[' || true; }; then
    echo "fuzz: the build failed" >&2; exit 1
fi
bin=$(swift build "${flags[@]}" --show-bin-path)
echo "fuzz: built in $(( $(date +%s) - start )) s"

# The Swift runtime's backtracer would race ASan's report on a trap (and take a minute).
export SWIFT_BACKTRACE=enable=no
work=.build/fuzz
mkdir -p "$work/crashes"
status=0
for target in $targets; do
    case $target in
        input) exe=FuzzInput; max_len=4096 ;;
        control) exe=FuzzControl; max_len=4096 ;;
        modelfile) exe=FuzzModelFile; max_len=16384 ;;
        snapshot) exe=FuzzSnapshot; max_len=8192 ;;
        config) exe=FuzzConfig; max_len=4096 ;;
        *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
    esac
    mkdir -p "$work/corpus/$target"
    log="$work/$target.log"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: growing past 2 GB is a bug.
    if "$bin/$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$work/crashes/$target-" \
        "$work/corpus/$target" "corpus/$target" > "$log" 2>&1; then
        result=ok
    else
        result=FAILED; status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $target: $result, ${execs:-?} execs (limit ${seconds} s, ${rate:-?}/s), ${cov:-cov: ?}"
    if [ "$result" = FAILED ]; then
        grep -A30 -m1 'ERROR: \|Fatal error\|==ERROR' "$log" >&2 || tail -40 "$log" >&2
        ls "$work/crashes/$target-"* 2>/dev/null >&2 || true
    fi
done
exit $status
