#!/usr/bin/env bash
# Instructions per simulated event, counted by callgrind: a figure this shared VM cannot
# blur. Its wall and CPU times move by ±15 % from one minute to the next; an instruction
# count is the same on every run, so two commits compare in one run each.
#
#   bash benches/instructions.sh [clients] [technique ...]
#
# Defaults: 20,000 clients (the SimPy comparison's size), all four techniques, the
# benchmark's workload on 20 × 8 cores, 60 s measured. Needs valgrind (Debian:
# `apt-get install valgrind`); a run takes ~50× its native time.
#
# What it does not see: memory. At 10^6+ clients a run's time is set by cache and DRAM
# misses, not instructions — compare those with the benchmark's CPU seconds, running the
# old and the new binary alternately (benches/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-20000}
shift || true
if [[ $# -gt 0 ]]; then techniques=("$@"); else techniques=(short long sse websocket); fi
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 1; }

# The bench binary cargo builds (its path carries a hash), or a saved one to compare
# with: RTSIM_BENCH=/tmp/engine-old bash benches/instructions.sh
bin=${RTSIM_BENCH:-$(cargo bench --bench engine --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -n 1)}
[[ -x $bin ]] || { echo "instructions.sh: no bench binary found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%-15s %12s %16s %12s\n' technique events instructions 'per event'
for t in "${techniques[@]}"; do
  valgrind --tool=callgrind --callgrind-out-file="$tmp/$t.out" \
    "$bin" "$t" --clients "$clients" --until 60 --cores 8 --jobs 1 >"$tmp/$t.txt" 2>"$tmp/$t.err"
  name=$(awk -v t="$t" 'index($1, t) == 1 { print $1 }' "$tmp/$t.txt")
  events=$(awk -v t="$t" 'index($1, t) == 1 { print $4 }' "$tmp/$t.txt")
  instructions=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/$t.err")
  awk -v t="$name" -v e="$events" -v i="$instructions" \
    'BEGIN { printf "%-15s %12d %16d %12.1f\n", t, e, i, i / e }'
done
