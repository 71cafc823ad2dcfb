#!/usr/bin/env bash
# Clarky, CRM (clarky.json): Bearer ck_live_ keys without a checksum, `read` and `write` scopes
# split by method, Clarky's own keys imported as they are. Run it with: npm run example -- clarky
source "$(dirname "$0")/lib.sh"

ws=$(workspace clarky-example)
new_key reader "$ws" live
new_key writer "$ws" live '"permissions":["read","write"]'
imported="ck_live_$(openssl rand -hex 15)"
admin POST /keys/import "{\"workspaceId\":\"$ws\",\"type\":\"live\",\"key\":\"$imported\"}" >/dev/null

check "a read key lists contacts" 200 - \
  "$PC/api/v1/contacts" -H "Authorization: Bearer $reader"
check "the read key creates a contact" 403 insufficient_permissions \
  -X POST "$PC/api/v1/contacts" -H "Authorization: Bearer $reader"
check "a write key creates a contact" 200 - \
  -X POST "$PC/api/v1/contacts" -H "Authorization: Bearer $writer"
check "an imported Clarky key" 200 - \
  "$PC/api/v1/contacts" -H "Authorization: Bearer $imported"

admin POST "/keys/$reader_id/revoke" >/dev/null
check "the read key after its revocation" 401 key_revoked \
  "$PC/api/v1/contacts" -H "Authorization: Bearer $reader"
check "enabling a revoked key (revocation is for good)" 409 key_revoked \
  -X PATCH "$PC/_portcullis/admin/v1/keys/$reader_id" -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'Content-Type: application/json' -d '{"enabled":true}'

# Settings > API Keys through the portal: Clarky's app signs a short-lived token naming the
# workspace being viewed.
PORTAL_SECRET=${PORTAL_SECRET:-dev-portal-secret}
organisation starter starter
organisation pro pro
settings() {
  member_token "$PORTAL_SECRET" kim "$(jq -cn --arg ws "$1" \
    '{iss: "https://clarky.example", aud: "clarky-settings", workspace_id: $ws, workspace_role: "member"}')"
}
portal "a Starter workspace creates an API key" 403 plan_required \
  "$(settings "$starter_org")" POST /keys '{"type":"live","name":"Zapier sync","permissions":["read"]}'
kim=$(settings "$pro_org")
portal "a Pro workspace creates a read-only key" 201 - \
  "$kim" POST /keys '{"type":"live","name":"Production data warehouse","permissions":["read"]}'
warehouse=$(jq -r .key <<<"$response")
warehouse_id=$(jq -r .id <<<"$response")
check "the read-only key lists contacts" 200 - \
  "$PC/api/v1/contacts" -H "Authorization: Bearer $warehouse"
check "the read-only key creates a contact" 403 insufficient_permissions \
  -X POST "$PC/api/v1/contacts" -H "Authorization: Bearer $warehouse"
portal "the key revoked in Settings > API Keys" 200 - "$kim" POST "/keys/$warehouse_id/revoke"
check "the revoked key lists contacts" 401 key_revoked \
  "$PC/api/v1/contacts" -H "Authorization: Bearer $warehouse"
