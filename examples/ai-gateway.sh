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
