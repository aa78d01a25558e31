#!/usr/bin/env bash
# Publishes the app (./scripts/publish.sh) and zip-deploys it to the function app infra/main.bicep created.
# Run by `azd up` after provisioning (azure.yaml), or by hand to re-deploy code:
#   ./scripts/deploy-azure.sh [RESOURCE_GROUP FUNCTION_APP_NAME]
# Without arguments it takes AZURE_RESOURCE_GROUP and FUNCTION_APP_NAME from the environment (azd sets both from the
# template's outputs). Needs the Azure CLI (az), signed in to the subscription.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

GROUP="${1:-${AZURE_RESOURCE_GROUP:-}}"
APP="${2:-${FUNCTION_APP_NAME:-}}"
[ -n "$GROUP" ] && [ -n "$APP" ] || die "Usage: $0 RESOURCE_GROUP FUNCTION_APP_NAME (or set AZURE_RESOURCE_GROUP and FUNCTION_APP_NAME; azd does)."
command -v az >/dev/null || die "The Azure CLI (az) is needed to deploy: https://aka.ms/azure-cli, then 'az login'."

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$ROOT/scripts/publish.sh" "$WORK/publish"
# Keep the executable bit on BeijingEts.Functions: the host starts it directly (host.json customHandler).
(cd "$WORK/publish" && python3 - "$WORK/app.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as archive:
    for folder, _, files in os.walk("."):
        for name in files:
            path = os.path.join(folder, name)
            info = zipfile.ZipInfo.from_file(path, os.path.relpath(path, "."))
            with open(path, "rb") as source:
                archive.writestr(info, source.read(), zipfile.ZIP_DEFLATED)
PY
)
echo "Deploying $(du -h "$WORK/app.zip" | cut -f1) to $APP in $GROUP ..." >&2
az functionapp deployment source config-zip --resource-group "$GROUP" --name "$APP" --src "$WORK/app.zip" >/dev/null
HOSTNAME="$(az functionapp show --resource-group "$GROUP" --name "$APP" --query defaultHostName -o tsv)"
echo "Deployed: https://$HOSTNAME/api/health" >&2
