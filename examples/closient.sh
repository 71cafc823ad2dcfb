#!/usr/bin/env bash
# Closient, product catalogue (closient.json): keys in X-API-Key only; business, user and
# publishable keys; a public part of the catalogue. Run it with: npm run example -- closient
source "$(dirname "$0")/lib.sh"

ws=$(workspace closient-example)
new_key business "$ws" business
new_key publishable "$ws" publishable

check "a business key reads the catalogue" 200 - \
  "$PC/products/api/v1/products" -H "X-API-Key: $business"
check "the same key as a Bearer token" 401 missing_credential \
  "$PC/products/api/v1/products" -H "Authorization: Bearer $business"
check "a publishable key writes the catalogue" 403 insufficient_permissions \
  -X POST "$PC/products/api/v1/products" -H "X-API-Key: $publishable"
check "the public catalogue without a key" 200 - \
  "$PC/products/api/v1/public/categories"

admin PATCH "/keys/$business_id" '{"enabled":false}' >/dev/null
check "the business key once disabled (is_active = false)" 401 key_disabled \
  "$PC/products/api/v1/products" -H "X-API-Key: $business"

# The organisation's API keys through the portal. Closient's dashboard (a Django session) signs a
# short-lived token for it with the member's organisation and role in that organisation.
PORTAL_SECRET=${PORTAL_SECRET:-dev-portal-secret}
organisation acme
member() {
  member_token "$PORTAL_SECRET" "$1" "$(jq -cn --arg org "$acme_org" --arg role "$2" --arg name "$1" \
    '{iss: "https://login.closient.example", aud: "closient-portal", org_id: $org, org_role: $role, name: $name}')"
}
olga=$(member olga owner)
mia=$(member mia manager)
ed=$(member ed editor)
portal "the Owner creates a business key" 201 - "$olga" POST /keys '{"type":"business","name":"ERP sync"}'
check "the new business key reads the catalogue" 200 - \
  "$PC/products/api/v1/products" -H "X-API-Key: $(jq -r .key <<<"$response")"
portal "an Editor creates a business key" 403 insufficient_permissions \
  "$ed" POST /keys '{"type":"business","name":"mine"}'
portal "a Manager creates her own user (csu) key" 201 - \
  "$mia" POST /keys '{"type":"user","name":"Mia scripts","permissions":["catalog:read","catalog:write"]}'
csu=$(jq -r .key <<<"$response")
check "her csu key writes the catalogue" 200 - \
  -X POST "$PC/products/api/v1/products" -H "X-API-Key: $csu"
admin PUT "/owners/mia/roles?workspaceId=$acme" '{"roles":["billing"]}' >/dev/null
check "the same write once Closient demotes her to Billing" 403 insufficient_permissions \
  -X POST "$PC/products/api/v1/products" -H "X-API-Key: $csu"
check "her csu key still reads the catalogue" 200 - \
  "$PC/products/api/v1/products" -H "X-API-Key: $csu"
portal "her token from before the demotion creates a key" 403 insufficient_permissions \
  "$mia" POST /keys '{"type":"business","name":"again"}'
