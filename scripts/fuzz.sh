#!/usr/bin/env bash
# Builds the parser fuzz targets with libFuzzer (swiftc -sanitize=fuzzer) and runs each for a while.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]      (default 60 s; every target)
# Seeds: Fuzz/corpus/<target>/ (committed). Inputs the fuzzer finds interesting go to
# .build-fuzz/corpus/<target>/ (not committed); a crashing input to .build-fuzz/crashes/<target>/,
# and the script exits non-zero naming it (Swift's own backtracer is off so libFuzzer catches the trap and saves the input). Replay one with:  VOSS_FUZZ_TARGET=T .build-fuzz/release/voss-fuzz FILE
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(httpdate sigv4 sigv2 awschunked body xml range proxyv2 gossip frame routing upstream fasthead)
# FUZZ_CONFIG=debug (what `make test` uses) builds faster and runs slower; release (`make fuzz`) finds more.
config="${FUZZ_CONFIG:-release}"
swift build -c "$config" --scratch-path .build-fuzz --product voss-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING >&2
bin=".build-fuzz/$config/voss-fuzz"
failed=()
for t in "${targets[@]}"; do
  mkdir -p ".build-fuzz/corpus/$t" ".build-fuzz/crashes/$t"
  log=".build-fuzz/$t.log"
  start=$(date +%s)
  if SWIFT_BACKTRACE=enable=no VOSS_FUZZ_TARGET="$t" "$bin" ".build-fuzz/corpus/$t" "Fuzz/corpus/$t" -max_total_time="$secs" -max_len=4096 \
       -timeout=10 -rss_limit_mb=2048 -artifact_prefix=".build-fuzz/crashes/$t/" -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz $t: $(( $(date +%s) - start )) s, ${runs:-?} inputs, ${cov:-cov: ?}, no crash"
  else
    echo "fuzz $t: CRASH — see $log and .build-fuzz/crashes/$t/" >&2
    grep -m5 -E "ERROR|Fatal error|SUMMARY" "$log" >&2 || true
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: crashes in: ${failed[*]}" >&2; exit 1; fi
