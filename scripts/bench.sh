#!/usr/bin/env bash
# Builds Release, starts its own Azurite (free ports, in memory), and prints one JSON line per figure:
# {"figure": NAME, "value": N, "unit": U} plus "ratio"/"target" where a figure is measured against the baseline.
# BENCH_SCALE=0.2 runs a fifth of the operations (a quick look); the default is the full run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_azurite
trap stop_azurite EXIT
trap 'exit 130' INT TERM
dotnet build tests/BeijingEts.Bench/BeijingEts.Bench.csproj -c Release -nologo -clp:"ErrorsOnly;NoSummary" -v:q >&2
read -r BLOB QUEUE TABLE < <(free_ports 3)
start_azurite "$BLOB" "$QUEUE" "$TABLE" --inMemoryPersistence
export AzureWebJobsStorage
AzureWebJobsStorage="$(azurite_connection_string "$BLOB" "$QUEUE" "$TABLE")"
dotnet tests/BeijingEts.Bench/bin/Release/net10.0/BeijingEts.Bench.dll
