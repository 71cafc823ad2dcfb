# Helpers of the example scripts (examples/*.sh); `npm run example -- NAME` runs them against a
# local Portcullis. Needs bash, curl, jq and openssl.
#
#   PC           the Portcullis address (default http://localhost:8787)
#   ADMIN_TOKEN  its admin token (default dev-admin-token, as `npm run dev` and `npm run example`)
set -euo pipefail

PC=${PC:-http://localhost:8787}
ADMIN_TOKEN=${ADMIN_TOKEN:-dev-admin-token}

# admin METHOD PATH [JSON]: an admin API call; prints the response body, fails on an error status.
admin() {
  local args=(-sS --fail-with-body -X "$1" "$PC/_portcullis/admin/v1$2" -H "Authorization: Bearer $ADMIN_TOKEN")
  if [[ $# -ge 3 ]]; then args+=(-H 'Content-Type: application/json' -d "$3"); fi
  curl "${args[@]}"
}

# new_key NAME WORKSPACE_ID TYPE [MORE_JSON_FIELDS]: creates a key; sets $NAME to the key (shown
# only this once) and $NAME_id to its id.
new_key() {
  local created
  created=$(admin POST /keys "{\"workspaceId\":\"$2\",\"type\":\"$3\"${4:+,$4}}")
  printf -v "$1" '%s' "$(jq -r .key <<<"$created")"
  printf -v "$1_id" '%s' "$(jq -r .id <<<"$created")"
}

# check WHAT STATUS CODE CURL_ARGS...: makes the request and prints its status and
# X-Portcullis-Code (`-` when it has none, as an allowed request); stops the script if either
# is not what the example expects. Leaves the response body in $response.
check() {
  local what=$1 want_status=$2 want_code=$3
  shift 3
  local headers body status code
  headers=$(mktemp)
  body=$(mktemp)
  status=$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' "$@")
  code=$(tr -d '\r' <"$headers" | awk 'tolower($1) == "x-portcullis-code:" { print $2 }')
  code=${code:--}
  if [[ $status != "$want_status" || $code != "$want_code" ]]; then
    echo "FAILED: $what: expected $want_status $want_code, got $status $code" >&2
    # The body, with a key it shows hidden: a secret never reaches the terminal.
    jq -c 'if type == "object" and has("key") then .key = "(hidden)" else . end' "$body" >&2 2>/dev/null ||
      cat "$body" >&2
    echo >&2
    exit 1
  fi
  printf '  %s %-26s %s\n' "$status" "$code" "$what"
  response=$(cat "$body")
  rm -f "$headers" "$body"
}

# session SECRET CLAIMS_JSON: an HS256 session JWT, valid for 10 minutes, signed with SECRET.
session() {
  hs256 "$1" "$2" 600
}

# member_token SECRET SUBJECT CLAIMS_JSON: a member's token as the system's own login signs it
# for the portal (HS256 with the login's secret, `sub` the member, 5 minutes: portal tokens are
# kept short-lived), with the organisation and roles in the claims that login uses.
member_token() {
  hs256 "$1" "$(jq -cn --arg sub "$2" --argjson claims "$3" '$claims + {sub: $sub}')" 300
}

# hs256 SECRET CLAIMS_JSON LIFETIME_SECONDS: a JWT of CLAIMS with `iat` now and `exp` LIFETIME
# seconds later, signed HS256 with SECRET by openssl.
hs256() {
  local now header payload signature
  now=$(date +%s)
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | base64url)
  payload=$(jq -cn --argjson claims "$2" --argjson now "$now" --argjson ttl "$3" \
    '$claims + {iat: $now, exp: ($now + $ttl)}' | base64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$1" -binary | base64url)
  printf '%s.%s.%s' "$header" "$payload" "$signature"
}

# portal WHAT STATUS CODE TOKEN METHOD PATH [JSON]: a call to the portal API (P/portal/v1) as
# the member whose token is TOKEN, checked and printed as `check` does; the body is left in
# $response (a created key's `.key` is there, shown only this once).
portal() {
  local what=$1 want_status=$2 want_code=$3 token=$4 method=$5 path=$6
  local args=(-X "$method" "$PC/_portcullis/portal/v1$path" -H "Authorization: Bearer $token")
  if [[ $# -ge 7 ]]; then args+=(-H 'Content-Type: application/json' -d "$7"); fi
  check "$what" "$want_status" "$want_code" "${args[@]}"
}

# note TEXT: a line under the last call's description (what the dashboard would show).
note() {
  printf '  %3s %-26s   %s\n' '' '' "$1"
}

base64url() {
  openssl base64 -A | tr '+/' '-_' | tr -d '='
}

# A workspace of its own for each run.
workspace() {
  admin POST /workspaces "{\"name\":\"$1\"${2:+,\"plan\":\"$2\"}}" | jq -r .id
}

# organisation NAME [PLAN]: a workspace serving one of the system's customer organisations, new
# for each run; sets $NAME to its workspace id and $NAME_org to the organisation id, its
# `externalId`, which members' tokens name.
organisation() {
  local org
  org="$1-$(openssl rand -hex 4)"
  printf -v "$1_org" '%s' "$org"
  printf -v "$1" '%s' "$(admin POST /workspaces \
    "$(jq -cn --arg org "$org" --arg plan "${2:-}" '{name: $org, externalId: $org} + (if $plan == "" then {} else {plan: $plan} end)')" |
    jq -r .id)"
}
