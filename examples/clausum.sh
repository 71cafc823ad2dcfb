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
