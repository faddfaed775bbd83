#!/usr/bin/env bash
# Runs commands side by side and reports each one's output whole, in order, once it has ended.
#   scripts/parallel.sh 'LABEL=COMMAND' ['LABEL=COMMAND' …]
# Used for the end-to-end suites, which spend most of their time waiting on the processes they
# start (one suite keeps about two thirds of one core busy): two at once on two cores cut CI's
# wall time without more work. Exits non-zero if any command failed, naming it.
set -uo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
labels=(); pids=()
for spec in "$@"; do
  label=${spec%%=*}; cmd=${spec#*=}
  labels+=("$label")
  ( s=$(date +%s); bash -c "$cmd"; rc=$?; echo "== $label: $(( $(date +%s) - s )) s, exit $rc"; exit $rc ) \
    >"$dir/${#pids[@]}.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"; rc=$?
  cat "$dir/$i.log"
  [ $rc = 0 ] || failed+=("${labels[$i]}")
done
if [ ${#failed[@]} -gt 0 ]; then echo "failed: ${failed[*]}" >&2; exit 1; fi
