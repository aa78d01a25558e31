#!/usr/bin/env bash
# Runs tests again and again under a parallel CPU load and stops at the first red run: a test that fails one time
# in ten is a bug, and this is how to see it. Each run is a whole ./scripts/test.sh (its own Azurite).
#
#   ./scripts/soak.sh                      # the race and restart tests (ledger, market, cycle), 10 runs
#   ./scripts/soak.sh --runs 3 --all       # the whole suite, 3 runs
#   ./scripts/soak.sh --load 4 -class '*LedgerReliabilityTests'
#
# --load N starts N busy loops beside the tests (default: one per core); --load 0 runs without.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

RUNS=10
LOAD="$(nproc)"
ALL=0
FILTER=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) [ $# -ge 2 ] || die "--runs needs a number."; RUNS="$2"; shift 2 ;;
    --load) [ $# -ge 2 ] || die "--load needs a number."; LOAD="$2"; shift 2 ;;
    --all) ALL=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) FILTER+=("$1"); shift ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a whole number above 0, not '$RUNS'."
[[ "$LOAD" =~ ^[0-9]+$ ]] || die "--load must be a whole number, not '$LOAD'."

# The tests that race clients, instances or deliveries against each other, or stop the app part-way.
RACES=(
  -class '*.LedgerReliabilityTests' -class '*.LedgerIntegrityTests' -class '*.MatchingConcurrencyTests'
  -class '*.CycleReliabilityTests' -class '*.CycleTwiceDeliveredTests'
)
if [ "$ALL" = 1 ]; then ARGS=("${FILTER[@]}"); elif [ ${#FILTER[@]} -gt 0 ]; then ARGS=("${FILTER[@]}"); else ARGS=("${RACES[@]}"); fi

LOADERS=()
stop_load() { for pid in "${LOADERS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop_load EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$LOAD"); do
  (while :; do :; done) &
  LOADERS+=("$!")
done

# slowest DIR: the three test classes that took longest in the result files in DIR.
slowest() {
  node -e '
    const fs = require("fs"); const byClass = {};
    for (const f of fs.readdirSync(process.argv[1]).filter(f => f.endsWith(".xml"))) {
      const xml = fs.readFileSync(process.argv[1] + "/" + f, "utf8");
      for (const [test] of xml.matchAll(/<test [^>]*>/g)) {
        const type = (test.match(/ type="([^"]+)"/) || [])[1], time = +((test.match(/ time="([\d.]+)"/) || [0, 0])[1]);
        if (type) byClass[type] = (byClass[type] || 0) + time;
      }
    }
    console.log(Object.entries(byClass).sort((a, b) => b[1] - a[1]).slice(0, 3)
      .map(([c, t]) => `${c.split(".").pop()} ${t.toFixed(0)} s`).join(", "));' "$1"
}

LOGS="$ROOT/.data/soak/$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$LOGS"
for run in $(seq 1 "$RUNS"); do
  started=$SECONDS
  log="$LOGS/run-$run.log"
  mkdir -p "$LOGS/run-$run"
  if TEST_RESULTS_DIR="$LOGS/run-$run" ./scripts/test.sh "${ARGS[@]}" >"$log" 2>&1; then
    echo "run $run/$RUNS: $(tail -n 1 "$log") in $((SECONDS - started)) s (load: $LOAD busy loops); slowest: $(slowest "$LOGS/run-$run")"
  else
    echo "run $run/$RUNS FAILED after $((SECONDS - started)) s: $(tail -n 1 "$log"); the output is in $log" >&2
    grep -E '\[FAIL\]' "$log" >&2 || true
    exit 1
  fi
done
echo "$RUNS runs in a row passed."
