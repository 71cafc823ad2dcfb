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
