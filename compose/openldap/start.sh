#!/bin/bash
# Starts the compose stack's slapd: writes slapd.conf (the same directory as the tests':
# core, cosine, inetorgperson, nis and Guardian's schema; mdb; the read-only service account
# without size limits), loads the demo organisation from policies/demo/demo.ldif and the
# service account once (slapadd, before slapd listens), then serves LDAPS on port 1636.
#
# Environment: LDAP_ADMIN_PASSWORD, LDAP_SERVICE_PASSWORD (compose/.env); SEED_DIR (the
# mounted demo.ldif and guardian.schema, default /seed), CERTS_DIR (default /certs),
# LDAP_DATA (default /var/lib/ldap), SLAPD_URLS (default ldaps://0.0.0.0:1636/).
set -euo pipefail
BASE="dc=guardian,dc=test"
ADMIN_DN="cn=admin,$BASE"
SERVICE_DN="cn=guardian-svc,$BASE"
SEED_DIR="${SEED_DIR:-/seed}"
CERTS_DIR="${CERTS_DIR:-/certs}"
DATA="${LDAP_DATA:-/var/lib/ldap}"
URLS="${SLAPD_URLS:-ldaps://0.0.0.0:1636/}"
RUN_DIR="${SLAPD_RUN_DIR:-/run/slapd}"
CONF="$RUN_DIR/slapd.conf"
SCHEMA_DIR="${SLAPD_SCHEMA_DIR:-/etc/ldap/schema}"
MODULES="${SLAPD_MODULES:-/usr/lib/ldap}"

for var in LDAP_ADMIN_PASSWORD LDAP_SERVICE_PASSWORD; do
    [ -n "${!var:-}" ] || { echo "guardian-slapd: $var is not set (see compose/.env.example)" >&2; exit 1; }
done

umask 077
mkdir -p "$RUN_DIR" "$DATA"
cat >"$CONF" <<CONF
# Generated at every start by guardian-slapd (compose/openldap/start.sh).
include $SCHEMA_DIR/core.schema
include $SCHEMA_DIR/cosine.schema
include $SCHEMA_DIR/inetorgperson.schema
include $SCHEMA_DIR/nis.schema
include $SEED_DIR/guardian.schema

modulepath $MODULES
moduleload back_mdb
pidfile $RUN_DIR/slapd.pid

TLSCACertificateFile $CERTS_DIR/ca.pem
TLSCertificateFile $CERTS_DIR/openldap.pem
TLSCertificateKeyFile $CERTS_DIR/openldap-key.pem
TLSVerifyClient never

access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database config

database mdb
maxsize 1073741824
suffix "$BASE"
rootdn "$ADMIN_DN"
rootpw $(slappasswd -h '{SSHA}' -s "$LDAP_ADMIN_PASSWORD")
directory $DATA
index objectClass eq
index uid,cn,mail eq
index member eq

limits dn.exact="$SERVICE_DN" size=unlimited time=unlimited

access to attrs=userPassword
    by self write
    by anonymous auth
    by * auth
access to *
    by dn.exact="$SERVICE_DN" read
    by self read
    by users read
    by * none
CONF
slaptest -u -f "$CONF"

if [ ! -e "$DATA/.guardian-seeded" ]; then
    echo "guardian-slapd: loading $SEED_DIR/demo.ldif and the service account"
    slapadd -f "$CONF" -l "$SEED_DIR/demo.ldif"
    slapadd -f "$CONF" <<LDIF
dn: $SERVICE_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: guardian-svc
description: Guardian read-only service account
userPassword: $(slappasswd -h '{SSHA}' -s "$LDAP_SERVICE_PASSWORD")
LDIF
    touch "$DATA/.guardian-seeded"
fi

unset LDAP_ADMIN_PASSWORD LDAP_SERVICE_PASSWORD
exec slapd -d "${SLAPD_DEBUG:-none}" -f "$CONF" -h "$URLS"
