#!/usr/bin/env bash
# Runs every test against its own Azurite (free ports, in memory), stops it even on failure, and ends with
# the line "N passed, N failed[, N skipped]".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_azurite
ensure_portal
ensure_chromium || true # without it the browser tests skip, saying why
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 # they drive Debian's chromium; Playwright must fetch none of its own
RESULTS="$(mktemp -d)"
# TEST_RESULTS_DIR=dir keeps the xUnit result files (each test's time and output) there.
trap 'stop_smtp4dev; stop_azurite; [ -n "${TEST_RESULTS_DIR:-}" ] && cp "$RESULTS"/*.xml "$TEST_RESULTS_DIR"/ 2>/dev/null; rm -rf "$RESULTS"' EXIT
trap 'exit 130' INT TERM

read -r BLOB QUEUE TABLE < <(free_ports 3)
AZURITE_LOG="$RESULTS/azurite.log" start_azurite "$BLOB" "$QUEUE" "$TABLE" --inMemoryPersistence
export AzureWebJobsStorage
AzureWebJobsStorage="$(azurite_connection_string "$BLOB" "$QUEUE" "$TABLE")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# A real SMTP server for the notice tests, which configure their own app instances to send to it (the others send no email).
ensure_smtp4dev
read -r SMTP4DEV_SMTP_PORT SMTP4DEV_WEB_PORT < <(free_ports 2)
SMTP4DEV_LOG="$RESULTS/smtp4dev.log" start_smtp4dev "$SMTP4DEV_SMTP_PORT" "$SMTP4DEV_WEB_PORT"
export SMTP4DEV_SMTP_PORT SMTP4DEV_URL="http://127.0.0.1:$SMTP4DEV_WEB_PORT"

dotnet build BeijingEts.Functions.sln -c Debug -nologo -clp:"ErrorsOnly;NoSummary" -v:q

status=0
for project in tests/*.Tests; do
  name="$(basename "$project")"
  "$project/bin/Debug/net10.0/$name" -noColor -noLogo -result-xml "$RESULTS/$name.xml" "$@" || status=1
done

node -e '
  const fs = require("fs"); let passed = 0, failed = 0, skipped = 0, errors = 0;
  for (const f of process.argv.slice(1)) {
    const xml = fs.readFileSync(f, "utf8");
    for (const m of xml.matchAll(/<assembly\b[^>]*>/g)) {
      const attr = k => +((m[0].match(new RegExp(" " + k + "=\"(\\d+)\"")) || [0, 0])[1]);
      passed += attr("passed"); failed += attr("failed"); skipped += attr("skipped"); errors += attr("errors");
    }
  }
  failed += errors;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed > 0 || passed === 0 ? 1 : 0);' "$RESULTS"/*.xml || status=1
exit $status
