#!/usr/bin/env bash
# Prints a bearer token (and nothing else) that the app started by ./scripts/run.sh on this machine accepts.
#   ./scripts/token.sh regulator          (the default regulator)
#   ./scripts/token.sh regulator alice    (regulator alice: another person, e.g. to approve what the default one proposed)
#   ./scripts/token.sh unit 91110000600037341L
#   ./scripts/token.sh district 朝阳区
#   ./scripts/token.sh verifier 91110108MA01XXXXXX
#   ./scripts/token.sh exchange
#   ./scripts/token.sh participant 91110105MA00XXXXXX
#   ./scripts/token.sh finance            (the finance authorities: read-only)
#   ./scripts/token.sh registry           (the registry: opens, suspends and closes accounts)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage="usage: ./scripts/token.sh regulator|district|unit|verifier|exchange|participant|finance|registry [SCOPE] (regulator name, district name, unit, verifier or participant USCC)"
[ $# -ge 1 ] && [ $# -le 2 ] || die "$usage"
ROLE="$1" SCOPE="${2:-}"
case "$ROLE" in
  regulator) SCOPE_CLAIM="" ;; # an optional NAME: a distinct regulator (subject local:regulator:NAME), who may approve another's proposal
  exchange|finance|registry) [ -z "$SCOPE" ] || die "The $ROLE role takes no scope; $usage" ; SCOPE_CLAIM="" ;;
  district) SCOPE_CLAIM="district" ;;
  unit) SCOPE_CLAIM="unit_id" ;;
  verifier) SCOPE_CLAIM="verifier_id" ;;
  participant) SCOPE_CLAIM="participant_id" ;;
  *) die "Unknown role '$ROLE'; $usage" ;;
esac
if [ -n "$SCOPE_CLAIM" ] && [ -z "$SCOPE" ]; then die "The $ROLE role needs a scope; $usage"; fi
if [ "$ROLE" = regulator ] && ! [[ "$SCOPE" =~ ^[A-Za-z0-9._-]{0,64}$ ]]; then die "A regulator NAME is 1 to 64 letters, digits, '.', '_' or '-'; $usage"; fi

KEY_FILE="${Auth__SigningKeyFile:-$(dev_signing_key_file)}"
KEY="$(tr -d '[:space:]' <"$KEY_FILE")"
json_string() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

NOW=$(date +%s)
SUB="local:$ROLE${SCOPE:+:$SCOPE}"
PAYLOAD="{\"iss\":\"beijing-ets-local\",\"aud\":\"beijing-ets-api\",\"sub\":$(json_string "$SUB"),\"roles\":[\"$ROLE\"]"
[ -n "$SCOPE_CLAIM" ] && PAYLOAD="$PAYLOAD,\"$SCOPE_CLAIM\":$(json_string "$SCOPE")"
PAYLOAD="$PAYLOAD,\"iat\":$NOW,\"nbf\":$NOW,\"exp\":$((NOW + 8 * 3600))}"

HEADER_PART="$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)"
PAYLOAD_PART="$(printf '%s' "$PAYLOAD" | b64url)"
SIGNATURE="$(printf '%s' "$HEADER_PART.$PAYLOAD_PART" | openssl dgst -sha256 -mac HMAC -macopt "key:$KEY" -binary | b64url)"
echo "$HEADER_PART.$PAYLOAD_PART.$SIGNATURE"
