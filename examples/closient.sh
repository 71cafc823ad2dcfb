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
