#!/usr/bin/env bash
# Serves the app on http://127.0.0.1:7071 (or --port N) with its queue and timer functions running, on Azurite
# with data under .data/ (or on the storage AzureWebJobsStorage names, if set). Ctrl-C stops both.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PORT=7071
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || die "--port needs a number, e.g. --port 7072."; PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#--port=}"; shift ;;
    -h|--help) echo "usage: ./scripts/run.sh [--port N]"; exit 0 ;;
    *) die "Unknown option '$1'; usage: ./scripts/run.sh [--port N]" ;;
  esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "--port must be a number from 1 to 65535, not '$PORT'."
port_in_use "$PORT" && die "Port $PORT is already in use: stop what is listening there, or pass --port N for another port."
command -v dotnet >/dev/null 2>&1 || die "dotnet is not installed: install the .NET 10 SDK, then run this again."

APP_PID=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then kill -TERM "$APP_PID" 2>/dev/null; wait "$APP_PID" 2>/dev/null || true; fi
  stop_smtp4dev
  stop_azurite
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${AzureWebJobsStorage:-}" ]; then
  ensure_azurite
  BLOB=10000 QUEUE=10001 TABLE=10002
  if port_in_use $BLOB || port_in_use $QUEUE || port_in_use $TABLE; then
    read -r BLOB QUEUE TABLE < <(free_ports 3)
    echo "Azurite's usual ports 10000-10002 are taken; using $BLOB, $QUEUE, $TABLE." >&2
  fi
  mkdir -p .data/azurite
  AZURITE_LOG="$ROOT/.data/azurite.log" start_azurite "$BLOB" "$QUEUE" "$TABLE" --location "$ROOT/.data/azurite"
  export AzureWebJobsStorage
  AzureWebJobsStorage="$(azurite_connection_string "$BLOB" "$QUEUE" "$TABLE")"
  echo "Azurite: blob $BLOB, queue $QUEUE, table $TABLE; data in .data/azurite" >&2
fi

# The notices' emails go to a local smtp4dev, whose web inbox shows every one (unless a relay is configured).
if [ -z "${Ets__Notices__Smtp__Host:-}" ]; then
  ensure_smtp4dev
  SMTP=2525 INBOX=5080
  if port_in_use $SMTP || port_in_use $INBOX; then
    read -r SMTP INBOX < <(free_ports 2)
    echo "smtp4dev's usual ports 2525 and 5080 are taken; using $SMTP and $INBOX." >&2
  fi
  mkdir -p .data
  SMTP4DEV_LOG="$ROOT/.data/smtp4dev.log" start_smtp4dev "$SMTP" "$INBOX" "$ROOT/.data/smtp4dev.db"
  export Ets__Notices__Smtp__Host=127.0.0.1 Ets__Notices__Smtp__Port="$SMTP" Ets__Notices__Smtp__Security=None
  echo "Email inbox (smtp4dev): http://127.0.0.1:$INBOX (SMTP on $SMTP)" >&2
fi

ensure_portal # the web portal at / needs its libraries from npm
dotnet build functions/BeijingEts.Functions/BeijingEts.Functions.csproj -c Debug -nologo -clp:"ErrorsOnly;NoSummary" -v:q >&2 \
  || die "The build failed (errors above); fix them and run this again."

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export Auth__SigningKeyFile="${Auth__SigningKeyFile:-$(dev_signing_key_file)}"
export Telemetry__Console="${Telemetry__Console:-true}"
echo "Serving http://127.0.0.1:$PORT/api (docs: http://127.0.0.1:$PORT/api/docs; token: ./scripts/token.sh ROLE [SCOPE]). Ctrl-C stops." >&2
echo "Web portal: http://127.0.0.1:$PORT/ (sign in as a role; ./scripts/demo.sh fills a year and says who to sign in as)" >&2
if [ -n "${INBOX:-}" ]; then echo "Email inbox: http://127.0.0.1:$INBOX (every notice's email)" >&2; fi
dotnet functions/BeijingEts.Functions/bin/Debug/net10.0/BeijingEts.Functions.dll --Ets:Port="$PORT" &
APP_PID=$!
set +e
wait "$APP_PID"
status=$?
APP_PID=""
exit $status
