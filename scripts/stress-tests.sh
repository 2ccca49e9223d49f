#!/usr/bin/env bash
# Run the test suite several times in a row while every core is kept busy, to find a test that
# only passes on a quiet machine before it blocks a landing (a timing bound that a loaded CI
# runner crosses). Run it before pushing a change to the delivery path.
#
#   scripts/stress-tests.sh [RUNS] [-- PYTEST ARGS...]
#
# RUNS (default 3, or $STRESS_RUNS): full passes of `python -m pytest`, stopping at the first
# failure (exit code of that run). $STRESS_BURNERS: CPU burners (default: one per core).
# $STRESS_MAX_SECONDS (default 3600): the burners stop by themselves after this long even if
# this script is killed with SIGKILL; otherwise they are stopped by pid when it ends.
set -euo pipefail

runs="${STRESS_RUNS:-3}"
if [[ $# -gt 0 && "$1" != "--" ]]; then
    runs="$1"
    shift
fi
[[ $# -gt 0 && "$1" == "--" ]] && shift
burners="${STRESS_BURNERS:-$(nproc)}"
max_seconds="${STRESS_MAX_SECONDS:-3600}"
python="${PYTHON:-python}"

cd "$(dirname "$0")/.."

pids=()
stop_burners() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    pids=()
}
trap stop_burners EXIT
trap 'exit 130' INT TERM

for _ in $(seq "$burners"); do
    # `timeout` bounds each burner in time; the trap stops it by its pid.
    timeout "$max_seconds" "$python" -c "while True: pass" &
    pids+=("$!")
done
echo "stress: ${burners} CPU burner(s) running (pids ${pids[*]}), ${runs} run(s) of the suite"

for run in $(seq "$runs"); do
    started=$SECONDS
    echo "stress: run ${run}/${runs}"
    if ! "$python" -m pytest -q -p no:cacheprovider "$@"; then
        echo "stress: run ${run}/${runs} FAILED after $((SECONDS - started)) s" >&2
        exit 1
    fi
    echo "stress: run ${run}/${runs} passed in $((SECONDS - started)) s"
done
echo "stress: ${runs} run(s) in a row passed with ${burners} busy core(s)"
