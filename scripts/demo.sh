#!/usr/bin/env bash
# Runs a whole compliance year against the app that ./scripts/run.sh serves, over HTTP: about 50 sample units with
# varied reports, verifications, offsets and one objection, on a schedule compressed into a few minutes; then prints
# the compliance table.   ./scripts/demo.sh [--url http://127.0.0.1:7071] [--units 50] [--step-seconds 30]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
URL="http://127.0.0.1:7071" UNITS=50 STEP=30
while [ $# -gt 0 ]; do
  case "$1" in
    --url) URL="$2"; shift 2 ;;
    --units) UNITS="$2"; shift 2 ;;
    --step-seconds) STEP="$2"; shift 2 ;;
    *) die "usage: ./scripts/demo.sh [--url URL] [--units N] [--step-seconds S]" ;;
  esac
done
command -v node >/dev/null 2>&1 || die "node is needed to run the demo: install Node.js 20."
curl -fsS "$URL/api/health" >/dev/null 2>&1 || die "No app answers at $URL: start it with ./scripts/run.sh first."
KEY_FILE="${Auth__SigningKeyFile:-$(dev_signing_key_file)}"
exec node "$ROOT/scripts/demo/demo.mjs" "$URL" "$KEY_FILE" "$UNITS" "$STEP"
