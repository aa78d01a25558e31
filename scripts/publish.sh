#!/usr/bin/env bash
# Produces a deployable Functions custom-handler folder (default ./publish): the self-contained app, host.json,
# and one generated <FunctionName>/function.json per function plus the catch-all HTTP function "Api"; and the web
# portal as static files (default ./publish-portal, or PORTAL_OUT) for the static web host infra/ creates; its config.json
# and headers name the API and Entra ID from PORTAL_API_URL, PORTAL_CLIENT_ID, PORTAL_AUTHORITY, PORTAL_SCOPE, PORTAL_STORAGE_URL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

OUT="${1:-$ROOT/publish}"
RUNTIME="${PUBLISH_RUNTIME:-linux-x64}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# Function folders from an earlier publish would outlive a removed function; start clean.
find "$OUT" -mindepth 1 -maxdepth 1 -exec rm -rf {} +

ensure_portal
dotnet publish functions/BeijingEts.Functions/BeijingEts.Functions.csproj -c Release -r "$RUNTIME" --self-contained true \
  -o "$OUT" -nologo -clp:"ErrorsOnly;NoSummary" -v:q -p:PublishReadyToRun=false >&2 \
  || die "dotnet publish failed (errors above)."
[ -f "$OUT/host.json" ] || die "host.json is missing from the publish output."
"$OUT/BeijingEts.Functions" --write-function-metadata "$OUT" >/dev/null \
  || die "Writing the function.json files failed."
PORTAL_OUT="${PORTAL_OUT:-$OUT-portal}"
assemble_portal "$PORTAL_OUT"
echo "Web portal's static files in $PORTAL_OUT (deploy: see README, Web portal)." >&2
echo "Published to $OUT: $(find "$OUT" -name function.json | wc -l) function.json files; deploy the folder as the function app's content." >&2
