#!/bin/bash
# Entry point of the compose stack's OpenSearch: writes the security plugin's internal users
# (bcrypt hashes of the passwords given in compose/.env, never the passwords themselves), its
# roles and role mappings, then starts OpenSearch with the image's own entry point.
# They seed the security index on its first start only; to change a password later, use the
# security REST API (PUT _plugins/_security/api/internalusers/<user>) or securityadmin.sh.
#
# OPENSEARCH_HOME (default /usr/share/opensearch), SECURITY_FILES (where roles.yml and
# roles_mapping.yml are mounted, default $OPENSEARCH_HOME/guardian) and OPENSEARCH_START (the
# command started at the end) let the same script run outside the image.
set -euo pipefail
OPENSEARCH_HOME="${OPENSEARCH_HOME:-/usr/share/opensearch}"
cd "$OPENSEARCH_HOME"
export OPENSEARCH_JAVA_HOME="${OPENSEARCH_JAVA_HOME:-$OPENSEARCH_HOME/jdk}"
SECURITY=config/opensearch-security
HERE="${SECURITY_FILES:-$OPENSEARCH_HOME/guardian}"

# bcrypt, by the security plugin's own tool (run with bash: it may not be executable).
hash_of() {
    bash plugins/opensearch-security/tools/hash.sh -p "$1" | grep -E '^\$2[aby]\$' | tail -n 1
}

for var in OPENSEARCH_ADMIN_PASSWORD OPENSEARCH_DASHBOARDS_PASSWORD \
           OPENSEARCH_GUARDIAN_PASSWORD OPENSEARCH_AUDITOR_PASSWORD; do
    [ -n "${!var:-}" ] || { echo "start.sh: $var is not set (see compose/.env.example)" >&2; exit 1; }
done

# Hashed first, each on its own: a failure stops the script instead of writing a user without
# a password hash.
declare -A HASH
for user in admin:OPENSEARCH_ADMIN_PASSWORD kibanaserver:OPENSEARCH_DASHBOARDS_PASSWORD \
            guardian:OPENSEARCH_GUARDIAN_PASSWORD auditor:OPENSEARCH_AUDITOR_PASSWORD; do
    var="${user#*:}"
    if ! value="$(hash_of "${!var}")" || [ -z "$value" ]; then
        echo "start.sh: could not hash $var" >&2
        exit 1
    fi
    HASH[${user%%:*}]="$value"
done

umask 077
cat >"$SECURITY/internal_users.yml" <<USERS
_meta:
  type: "internalusers"
  config_version: 2
admin:
  hash: "${HASH[admin]}"
  reserved: true
  backend_roles: ["admin"]
  description: "Administrator of the compose stack"
kibanaserver:
  hash: "${HASH[kibanaserver]}"
  reserved: true
  description: "OpenSearch Dashboards server"
guardian:
  hash: "${HASH[guardian]}"
  reserved: false
  description: "Guardian: audit index design and shipper"
auditor:
  hash: "${HASH[auditor]}"
  reserved: false
  description: "Auditors reading the trail in Dashboards"
USERS
cp "$HERE/roles.yml" "$HERE/roles_mapping.yml" "$SECURITY/"
unset OPENSEARCH_DASHBOARDS_PASSWORD OPENSEARCH_GUARDIAN_PASSWORD OPENSEARCH_AUDITOR_PASSWORD
# shellcheck disable=SC2086 # a command line, split on purpose
exec ${OPENSEARCH_START:-./opensearch-docker-entrypoint.sh opensearch}
