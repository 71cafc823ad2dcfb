#!/usr/bin/env bash
# An AI gateway (ai-gateway.json): cm_ keys with every service by default and no resource scope;
# X-API-Key accepted on /v1/messages only; dashboard sessions with full access.
# Run it with: npm run example -- ai-gateway
source "$(dirname "$0")/lib.sh"
SESSION_SECRET=${SESSION_SECRET:-dev-session-secret}

new_key key "$(workspace ai-gateway-example)" api

check "a new key calls a model" 200 - \
  -X POST "$PC/v1/chat/completions" -H "Authorization: Bearer $key"
check "the same key reads bots (no resource scope)" 403 insufficient_permissions \
  "$PC/api/v1/bots/bot_1" -H "Authorization: Bearer $key"
check "X-API-Key on /v1/messages" 200 - \
  -X POST "$PC/v1/messages" -H "X-API-Key: $key"
check "X-API-Key anywhere else" 401 missing_credential \
  -X POST "$PC/v1/chat/completions" -H "X-API-Key: $key"

token=$(session "$SESSION_SECRET" '{"sub":"user-1"}')
check "a dashboard session reads bots" 200 - \
  "$PC/api/v1/bots/bot_1" -H "Authorization: Bearer $token"

# The profile page through the portal, with the gateway's own login: each user is an account
# of its own, made on its first visit.
user="user-$(openssl rand -hex 4)"
profile=$(member_token "$SESSION_SECRET" "$user" '{"role":"user"}')
portal "a user's first visit to the profile page" 200 - "$profile" GET /session
portal "the profile page creates a key (every service)" 201 - \
  "$profile" POST /keys '{"type":"api","name":"inference"}'
inference=$(jq -r .key <<<"$response")
inference_id=$(jq -r .id <<<"$response")
check "the new key calls a model" 200 - \
  -X POST "$PC/v1/chat/completions" -H "Authorization: Bearer $inference"
check "the new key reads bots (no resource scope)" 403 insufficient_permissions \
  "$PC/api/v1/bots/bot_1" -H "Authorization: Bearer $inference"
portal "a key with llm and bots:read" 201 - \
  "$profile" POST /keys '{"type":"api","name":"bot reader","permissions":["service:llm","bots:read"]}'
check "it reads bots" 200 - "$PC/api/v1/bots/bot_1" -H "Authorization: Bearer $(jq -r .key <<<"$response")"
portal "another user's profile page asks for the first key" 404 not_found \
  "$(member_token "$SESSION_SECRET" "$user-other" '{"role":"user"}')" GET "/keys/$inference_id"
portal "the user revokes the first key" 200 - "$profile" POST "/keys/$inference_id/revoke"
check "the revoked key calls a model" 401 key_revoked \
  -X POST "$PC/v1/chat/completions" -H "Authorization: Bearer $inference"
