#!/usr/bin/env bash
# Produces a deployable Functions custom-handler folder (default ./publish): the self-contained app, host.json,
# and one generated <FunctionName>/function.json per function plus the catch-all HTTP function "Api".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

OUT="${1:-$ROOT/publish}"
RUNTIME="${PUBLISH_RUNTIME:-linux-x64}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# Function folders from an earlier publish would outlive a removed function; start clean.
find "$OUT" -mindepth 1 -maxdepth 1 -exec rm -rf {} +

dotnet publish functions/BeijingEts.Functions/BeijingEts.Functions.csproj -c Release -r "$RUNTIME" --self-contained true \
  -o "$OUT" -nologo -clp:"ErrorsOnly;NoSummary" -v:q -p:PublishReadyToRun=false >&2 \
  || die "dotnet publish failed (errors above)."
[ -f "$OUT/host.json" ] || die "host.json is missing from the publish output."
"$OUT/BeijingEts.Functions" --write-function-metadata "$OUT" >/dev/null \
  || die "Writing the function.json files failed."
echo "Published to $OUT: $(find "$OUT" -name function.json | wc -l) function.json files; deploy the folder as the function app's content." >&2
