# Shared by run.sh, test.sh and bench.sh: Azurite and smtp4dev install and start, free ports, connection strings.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_DIR="$ROOT/scripts/azurite"
AZURITE_BIN="$AZURITE_DIR/node_modules/.bin/azurite"
AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

die() { echo "$*" >&2; exit 1; }

ensure_azurite() {
  [ -x "$AZURITE_BIN" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is not installed: install Node.js 20, then run this again."
  echo "Installing Azurite (pinned in scripts/azurite/package-lock.json)..." >&2
  (cd "$AZURITE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$AZURITE_DIR/npm-error.log") \
    || die "Azurite could not be installed from npm (see scripts/azurite/npm-error.log); check the npm registry is reachable, then run this again."
  rm -f "$AZURITE_DIR/npm-error.log"
}

PORTAL_DIR="$ROOT/portal"

# The portal's two libraries (ECharts, MSAL) from npm, pinned in portal/package-lock.json; the build copies their built files.
ensure_portal() {
  [ -f "$PORTAL_DIR/node_modules/echarts/dist/echarts.min.js" ] && [ -f "$PORTAL_DIR/node_modules/@azure/msal-browser/lib/msal-browser.min.js" ] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is not installed: install Node.js 20, then run this again."
  echo "Installing the portal's libraries (pinned in portal/package-lock.json)..." >&2
  (cd "$PORTAL_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>"$PORTAL_DIR/npm-error.log") \
    || die "The portal's libraries could not be installed from npm (see portal/npm-error.log); check the npm registry is reachable, then run this again."
  rm -f "$PORTAL_DIR/npm-error.log"
}

# assemble_portal DIR: the portal as static files for a static web host (infra/: Static Web Apps), with config.json for Entra ID.
assemble_portal() {
  local out=$1
  ensure_portal
  rm -rf "$out" && mkdir -p "$out/vendor"
  (cd "$PORTAL_DIR" && tar --exclude=node_modules --exclude='package*.json' --exclude=test-results --exclude=tools -cf - .) | (cd "$out" && tar -xf -)
  cp "$PORTAL_DIR/node_modules/echarts/dist/echarts.min.js" "$PORTAL_DIR/node_modules/@azure/msal-browser/lib/msal-browser.min.js" "$out/vendor/"
  node "$PORTAL_DIR/tools/static-site.mjs" "$out" || die "Writing the portal's config.json and headers failed."
}

# ensure_chromium: Debian's chromium for the browser tests (and a CJK font for their screenshots), installed with apt when
# missing; prints one line and returns 1 when it cannot be, and the browser tests then skip saying why.
ensure_chromium() {
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && sudo="sudo -n"
    [ -n "$sudo" ] || { echo "Browser tests will be skipped: chromium is missing and apt needs root (sudo apt-get install -y chromium)." >&2; return 1; }
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "Browser tests will be skipped: chromium is missing and this system has no apt-get." >&2; return 1; }
  echo "Installing chromium with apt for the browser tests..." >&2
  { $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei \
      || { $sudo apt-get update && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei; }; } >/dev/null 2>&1 \
    || { echo "Browser tests will be skipped: apt-get could not install chromium." >&2; return 1; }
}

# free_ports N: prints N distinct free loopback ports.
free_ports() {
  node -e '
    const net = require("net"); const n = +process.argv[1]; const servers = []; const ports = [];
    (function next() {
      if (ports.length === n) { servers.forEach(s => s.close()); console.log(ports.join(" ")); return; }
      const s = net.createServer(); servers.push(s);
      s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); next(); });
    })();' "$1"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_azurite BLOB QUEUE TABLE [--inMemoryPersistence | --location DIR]: starts Azurite in the background,
# sets AZURITE_PID, and waits until all three services accept connections.
start_azurite() {
  local blob=$1 queue=$2 table=$3; shift 3
  "$AZURITE_BIN" --silent --skipApiVersionCheck --disableTelemetry \
    --blobHost 127.0.0.1 --blobPort "$blob" --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" "$@" >"${AZURITE_LOG:-/dev/null}" 2>&1 &
  AZURITE_PID=$!
  wait_listening Azurite "$AZURITE_PID" 15 "${AZURITE_LOG:-}" "$blob" "$queue" "$table"
}

# wait_listening NAME PID SECONDS LOG PORT...: returns once every port accepts connections; dies if the process
# exits first or the time runs out.
wait_listening() {
  local name=$1 pid=$2 seconds=$3 log=$4; shift 4
  local port ready
  for _ in $(seq 1 $((seconds * 10))); do
    ready=1
    for port in "$@"; do port_in_use "$port" || { ready=0; break; }; done
    [ $ready = 1 ] && return 0
    kill -0 "$pid" 2>/dev/null || die "$name exited at start-up${log:+ (see $log)}; check the ports $* are free."
    sleep 0.1
  done
  die "$name did not start listening within $seconds s on ports $*."
}

stop_azurite() {
  if [ -n "${AZURITE_PID:-}" ] && kill -0 "$AZURITE_PID" 2>/dev/null; then
    kill "$AZURITE_PID" 2>/dev/null
    wait "$AZURITE_PID" 2>/dev/null
  fi
  AZURITE_PID=""
}

# smtp4dev: a real SMTP server with a web inbox, pinned in .config/dotnet-tools.json; run.sh sends the notices'
# emails to it, and the notice tests read what arrived through its API.
ensure_smtp4dev() {
  (cd "$ROOT" && dotnet tool restore >/dev/null 2>"$ROOT/.config/tool-restore-error.log") \
    || die "smtp4dev could not be restored from NuGet (see .config/tool-restore-error.log); check the NuGet registry is reachable, then run this again."
  rm -f "$ROOT/.config/tool-restore-error.log"
}

# start_smtp4dev SMTP_PORT WEB_PORT [DB_FILE]: starts smtp4dev on loopback in the background (in memory without
# DB_FILE), sets SMTP4DEV_PID, and waits until the SMTP server and the web inbox accept connections.
start_smtp4dev() {
  local smtp=$1 web=$2 db=${3:-}
  (cd "$ROOT" && exec dotnet tool run smtp4dev -- --urls="http://127.0.0.1:$web" --smtpport="$smtp" --bindaddress=127.0.0.1 \
    --imapport=0 --pop3port=0 --db="$db" --nousersettings --messagestokeep=100000 --sessionstokeep=100) >"${SMTP4DEV_LOG:-/dev/null}" 2>&1 &
  SMTP4DEV_PID=$!
  wait_listening smtp4dev "$SMTP4DEV_PID" 60 "${SMTP4DEV_LOG:-}" "$smtp" "$web"
}

stop_smtp4dev() {
  if [ -n "${SMTP4DEV_PID:-}" ] && kill -0 "$SMTP4DEV_PID" 2>/dev/null; then
    kill "$SMTP4DEV_PID" 2>/dev/null
    wait "$SMTP4DEV_PID" 2>/dev/null
  fi
  SMTP4DEV_PID=""
}

azurite_connection_string() {
  echo "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$2/devstoreaccount1;TableEndpoint=http://127.0.0.1:$3/devstoreaccount1;"
}

# The local signing key shared by run.sh (the app) and token.sh (the tokens it accepts).
dev_signing_key_file() {
  local file="$ROOT/.data/dev-signing-key"
  if [ ! -s "$file" ]; then
    mkdir -p "$ROOT/.data"
    command -v openssl >/dev/null 2>&1 || die "openssl is needed to make the local signing key; install it (apt-get install openssl)."
    (umask 077 && openssl rand -hex 32 >"$file.tmp.$$" && mv -n "$file.tmp.$$" "$file"; rm -f "$file.tmp.$$")
  fi
  echo "$file"
}
