#!/usr/bin/env bash
# Clodura, sales data (clodura.json): X-API-KEY, ten plans whose quotas answer 409, plan-gated
# enterprise endpoints, and GET /api/v1/credits answered by Portcullis itself.
# Run it with: npm run example -- clodura
source "$(dirname "$0")/lib.sh"

# A key of an Enterprise workspace, and a key on the default Free plan with a quota of one
# request a day (its own value replaces the plan's 300; its own 10 a second the plan's 1).
new_key enterprise "$(workspace clodura-enterprise enterprise)" api
new_key free "$(workspace clodura-free)" api '"limits":{"second":10,"day":1}'

check "an Enterprise workspace's key on an enterprise endpoint" 200 - \
  "$PC/api/v1/enterprise/contacts" -H "X-API-KEY: $enterprise"
check "a Free key on the same endpoint" 403 insufficient_permissions \
  "$PC/api/v1/enterprise/contacts" -H "X-API-KEY: $free"
check "the Free key's limits and usage (spends nothing)" 200 - \
  "$PC/api/v1/credits" -H "X-API-KEY: $free"
check "the Free key's only request of the day" 200 - \
  "$PC/api/v1/companies" -H "X-API-KEY: $free"
check "its second request of the day" 409 quota_exceeded \
  "$PC/api/v1/companies" -H "X-API-KEY: $free"

# The developer dashboard (Settings → Developer) through the portal: Clodura's app signs a
# short-lived token naming the account.
PORTAL_SECRET=${PORTAL_SECRET:-dev-portal-secret}
organisation account professional
sam=$(member_token "$PORTAL_SECRET" sam "$(jq -cn --arg account "$account_org" \
  '{iss: "https://app.clodura.example", aud: "clodura-developer", account_id: $account, role: "user"}')")
portal "Generate Key in the developer dashboard" 201 - "$sam" POST /keys '{"type":"api","name":"my key"}'
generated=$(jq -r .key <<<"$response")
generated_id=$(jq -r .id <<<"$response")
portal "Generate Key again (one key per account)" 409 limit_reached \
  "$sam" POST /keys '{"type":"api","name":"another"}'
check "the generated key finds companies" 200 - \
  "$PC/api/v1/companies" -H "X-API-KEY: $generated"
portal "the dashboard shows the key's daily quota" 200 - "$sam" GET "/keys/$generated_id"
note "$(jq -r '.limits[] | select(.window == "day") | "remaining today: \(.remaining) of \(.limit)"' <<<"$response")"
portal "Regenerate Key (the old one works one hour more)" 201 - \
  "$sam" POST "/keys/$generated_id/rotate" '{"gracePeriodSeconds":3600}'
