#!/usr/bin/env bash
# Times `rtsim size` on the repository's sizing examples: CPU (user + sys), wall time,
# and the wall time the same work would take on 2 idle cores.
#
#   benches/size_examples.sh [REPEATS]          # default 2 repeats of each example
#   benches/size_examples.sh 1 FILE...          # other `rtsim size` inputs instead
#   RTSIM=path/to/rtsim benches/size_examples.sh   # an already built binary
#
# On a shared machine the wall time says more about the neighbours than about rtsim, so
# the figure to compare is CPU time, and from it the idle-2-core estimate: `rtsim size`
# prints each simulation's own CPU time (its worker thread's, from Linux's
# CLOCK_THREAD_CPUTIME_ID) under the round it ran in; the rounds are barriers, so the
# estimate is, per round, the longest-processing-time schedule of its runs on 2 workers
# (what the runner does: longest first), summed over rounds, plus the CPU spent outside
# simulations (loading, reports, chart) on one core. Figures before and after the
# deployment-first search (issue #17): benches/README.md and docs/sizing.md, "How fast".
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-2}
shift || true
examples=("$@")
if ((${#examples[@]} == 0)); then
    examples=(experiments/09-sizing-chat.toml experiments/10-sizing-notifications.toml)
fi
if [[ -z "${RTSIM:-}" ]]; then
    cargo build --release --quiet
    RTSIM=target/release/rtsim
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-40s %9s %9s %9s %12s\n' example "cpu s" "wall s" "runs" "idle-2c s"
for example in "${examples[@]}"; do
    for ((i = 1; i <= repeats; i++)); do
        log="$out/log"
        /usr/bin/time -f 'TIME %U %S %e' "$RTSIM" size "$example" --jobs 2 --out "$out/o" \
            >/dev/null 2>"$log"
        awk -v name="$(basename "$example")" '
            function flush(   i, j, t, a, b) {
                # Longest first onto the less loaded of 2 workers.
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                    if (c[j] > c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
                a = 0; b = 0
                for (i = 1; i <= n; i++) { if (a <= b) a += c[i]; else b += c[i] }
                span += (a > b ? a : b); n = 0
            }
            /^round / { flush() }
            / CPU, / { s = $0; sub(/.*\(/, "", s); sub(/ s CPU.*/, "", s); c[++n] = s + 0; runs++; sim += s }
            /^TIME / { flush(); cpu = $2 + $3; wall = $4 }
            END {
                other = cpu - sim; if (other < 0) other = 0
                # A binary that prints no per-run CPU time gives no idle estimate.
                if (runs == 0) printf "%-40s %9.1f %9.1f %9s %12s\n", name, cpu, wall, "?", "n/a"
                else printf "%-40s %9.1f %9.1f %9d %12.1f\n", name, cpu, wall, runs, span + other
            }' "$log"
    done
done
