#!/usr/bin/env bash
# Clausum, fraud scoring (clausum.json): a checkout key for the browser, a server key, an ingest
# key for webhooks, each limited to its endpoints; Supabase session tokens on the dashboard.
# Run it with: npm run example -- clausum
source "$(dirname "$0")/lib.sh"
SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-dev-session-secret}

ws=$(workspace clausum-example)
new_key checkout "$ws" checkout
new_key server "$ws" server

check "a checkout key scores a payment" 200 - \
  -X POST "$PC/api/v1/assess" -H "Authorization: Bearer $checkout"
check "the same key on the merchant API" 403 wrong_key_type \
  "$PC/api/v1/merchant/transactions" -H "Authorization: Bearer $checkout"
check "a server key reads transactions" 200 - \
  "$PC/api/v1/merchant/transactions" -H "Authorization: Bearer $server"
check "the key as ?api_key= (removed before the origin)" 200 - \
  -X POST "$PC/api/v1/assess?api_key=$checkout"
check "no key at all" 401 missing_credential \
  -X POST "$PC/api/v1/assess"

token=$(session "$SUPABASE_JWT_SECRET" '{"sub":"user-1","aud":"authenticated","app_permissions":["dashboard:read"]}')
check "a dashboard session token" 200 - \
  "$PC/api/dashboard/overview" -H "Authorization: Bearer $token"
check "a server key on the dashboard" 401 invalid_token \
  "$PC/api/dashboard/overview" -H "Authorization: Bearer $server"

admin POST "/keys/$checkout_id/revoke" >/dev/null
check "the checkout key after its revocation" 401 key_revoked \
  -X POST "$PC/api/v1/assess" -H "Authorization: Bearer $checkout"

# The dashboard (Integraciones → Claves de integración) through the portal: members sign in with
# Supabase; their workspace is in app_metadata (only Clausum's backend writes it, never
# user_metadata, which users edit), their dashboard rights in app_permissions.
organisation merchant
supabase() {
  member_token "$SUPABASE_JWT_SECRET" "$1" "$(jq -cn --arg ws "$merchant_org" --arg email "$1@merchant.example" \
    --argjson permissions "$2" \
    '{aud: "authenticated", email: $email, app_metadata: {workspace_id: $ws}, app_permissions: $permissions}')"
}
owner=$(supabase ana '["dashboard:admin"]')
analyst=$(supabase leo '["dashboard:read"]')
portal "a dashboard admin creates a checkout key (shown once)" 201 - \
  "$owner" POST /keys '{"type":"checkout","name":"web checkout"}'
browser=$(jq -r .key <<<"$response")
browser_id=$(jq -r .id <<<"$response")
check "the new checkout key scores a payment" 200 - \
  -X POST "$PC/api/v1/assess" -H "Authorization: Bearer $browser"
portal "a checkout key with full access (*)" 400 permission_not_allowed \
  "$owner" POST /keys '{"type":"checkout","name":"too wide","permissions":["*"]}'
portal "a member with dashboard:read lists the keys" 200 - "$analyst" GET /keys
portal "the same member creates a server key" 403 insufficient_permissions \
  "$analyst" POST /keys '{"type":"server","name":"mine"}'
forged=$(member_token "$SUPABASE_JWT_SECRET" ana "$(jq -cn --arg ws "$merchant_org" \
  '{aud: "authenticated", user_metadata: {workspace_id: $ws}, app_permissions: ["dashboard:admin"]}')")
portal "a workspace named in user_metadata" 401 invalid_token "$forged" GET /keys
portal "the admin revokes the checkout key" 200 - "$owner" POST "/keys/$browser_id/revoke"
check "the checkout key right after (revocation is immediate)" 401 key_revoked \
  -X POST "$PC/api/v1/assess" -H "Authorization: Bearer $browser"
