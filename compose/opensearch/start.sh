#!/bin/bash
# Entry point of the compose stack's OpenSearch: writes the security plugin's internal users
# (bcrypt hashes of the passwords given in compose/.env, never the passwords themselves), its
# roles and role mappings, then starts OpenSearch with the image's own entry point.
# They seed the security index on its first start only; to change a password later, use the
# security REST API (PUT _plugins/_security/api/internalusers/<user>) or securityadmin.sh.
set -euo pipefail
cd /usr/share/opensearch
export OPENSEARCH_JAVA_HOME="${OPENSEARCH_JAVA_HOME:-/usr/share/opensearch/jdk}"
SECURITY=config/opensearch-security
HERE=/usr/share/opensearch/guardian

hash_of() {
    local value
    value="$(plugins/opensearch-security/tools/hash.sh -p "$1" | grep -E '^\$2[aby]\$' | tail -n 1)"
    [ -n "$value" ] || { echo "start.sh: could not hash a password" >&2; exit 1; }
    printf '%s' "$value"
}

for var in OPENSEARCH_ADMIN_PASSWORD OPENSEARCH_DASHBOARDS_PASSWORD \
           OPENSEARCH_GUARDIAN_PASSWORD OPENSEARCH_AUDITOR_PASSWORD; do
    [ -n "${!var:-}" ] || { echo "start.sh: $var is not set (see compose/.env.example)" >&2; exit 1; }
done

umask 077
cat >"$SECURITY/internal_users.yml" <<USERS
_meta:
  type: "internalusers"
  config_version: 2
admin:
  hash: "$(hash_of "$OPENSEARCH_ADMIN_PASSWORD")"
  reserved: true
  backend_roles: ["admin"]
  description: "Administrator of the compose stack"
kibanaserver:
  hash: "$(hash_of "$OPENSEARCH_DASHBOARDS_PASSWORD")"
  reserved: true
  description: "OpenSearch Dashboards server"
guardian:
  hash: "$(hash_of "$OPENSEARCH_GUARDIAN_PASSWORD")"
  reserved: false
  description: "Guardian: audit index design and shipper"
auditor:
  hash: "$(hash_of "$OPENSEARCH_AUDITOR_PASSWORD")"
  reserved: false
  description: "Auditors reading the trail in Dashboards"
USERS
cp "$HERE/roles.yml" "$HERE/roles_mapping.yml" "$SECURITY/"
unset OPENSEARCH_DASHBOARDS_PASSWORD OPENSEARCH_GUARDIAN_PASSWORD OPENSEARCH_AUDITOR_PASSWORD
exec ./opensearch-docker-entrypoint.sh opensearch
