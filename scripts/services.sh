#!/usr/bin/env bash
# scripts/services.sh — the real services of Guardian's integration tests.
#
# Installs (when missing) and starts/stops, each on its own loopback port with its data
# under <work tree>/.services/:
#   slapd       OpenLDAP (Debian slapd, ldap-utils)   ldap://127.0.0.1:3389  dc=guardian,dc=test,
#               seeded once from policies/demo/demo.ldif (schema: scripts/ldap/guardian.schema)
#   postgres    PostgreSQL (Debian postgresql)        127.0.0.1:55432        database/role guardian
#   opensearch  OpenSearch 2.x single node            http://127.0.0.1:9250  (transport 9350)
#   cluster     OpenSearch 3-node cluster             http://127.0.0.1:9251-9253 (transport 9351-9353)
#   spare       OpenSearch single node for tests that stop and restart it (the audit shipper's
#               outage test)                          http://127.0.0.1:9260  (transport 9360)
# OpenSearch is the integ-test zip from Maven Central (org.opensearch.distribution.integ-test-zip),
# fetched with Maven and run on the machine's Java 17. Nothing listens on anything but 127.0.0.1.
#
# Usage:
#   scripts/services.sh start  [slapd|postgres|opensearch|cluster|all|everything ...]  (default all)
#   scripts/services.sh stop   [same]          stop what this script started (pid files), nothing else
#   scripts/services.sh status                 state, pid, port and resident memory of each service
#   scripts/services.sh env                    `export GUARDIAN_TEST_...=...` lines for the tests
#   scripts/services.sh reseed slapd           wipe the directory and load the demo LDIF again
#   scripts/services.sh start-node N | stop-node N    one node (1-3) of the 3-node cluster
# "all" is slapd postgres opensearch; "everything" adds cluster and spare.
#
# Safe to run twice: a service that already answers is left alone, a stale pid file is removed.
# Run as root on a fresh Debian 12 (it uses apt-get and runs each service as its own system user:
# openldap, postgres, opensearch). As a normal user it runs everything as that user and only
# checks that the packages are there.
#
# Environment knobs (all optional):
#   GUARDIAN_SERVICES_DIR          data folder (default <work tree>/.services)
#   GUARDIAN_OPENSEARCH_VERSION    OpenSearch 2.x version from Maven Central (default below)
#   GUARDIAN_OPENSEARCH_TRY_ISM    1 (default): try to install the index-management plugin from
#                                  Maven Central when the distribution is unpacked; 0: don't try
#   GUARDIAN_SERVICES_TIMEOUT      seconds to wait for one service to answer (default 120)
#   GUARDIAN_SLAPD_DEBUG           slapd -d level for .services/slapd/slapd.log (default none:
#                                  errors only; "stats" logs every connection and operation)

set -euo pipefail

# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SVC_DIR="${GUARDIAN_SERVICES_DIR:-$ROOT/.services}"
# A work tree the service users cannot traverse (a 0700 parent, such as a private temporary
# folder CI cloned into): keep the data in a reachable folder named after the work tree, and
# link it as .services so it still sits "under the work tree" for everyone looking for it.
if [ -z "${GUARDIAN_SERVICES_DIR:-}" ] && [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1 &&
    ! runuser -u nobody -- test -x "$ROOT" 2>/dev/null; then
    SVC_DIR="/var/tmp/guardian-services-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
    mkdir -p "$SVC_DIR"
    chmod 755 "$SVC_DIR"
    [ -e "$ROOT/.services" ] || [ -L "$ROOT/.services" ] || ln -s "$SVC_DIR" "$ROOT/.services"
fi
TIMEOUT="${GUARDIAN_SERVICES_TIMEOUT:-120}"
HOST=127.0.0.1

LDAP_PORT=3389
LDAP_URL="ldap://$HOST:$LDAP_PORT"
LDAP_BASE="dc=guardian,dc=test"
LDAP_ADMIN_DN="cn=admin,$LDAP_BASE"
LDAP_ADMIN_PW="admin-test-pass"
LDAP_SVC_DN="cn=guardian-svc,$LDAP_BASE"
LDAP_SVC_PW="svc-test-pass"
LDAP_SCHEMA="$ROOT/scripts/ldap/guardian.schema"
LDAP_SEED="$ROOT/policies/demo/demo.ldif"
SLAPD_DIR="$SVC_DIR/slapd"

PG_PORT=55432
PG_DB=guardian
PG_USER=guardian
PG_PW="guardian-test-pass"
PG_DIR="$SVC_DIR/postgres"

OS_VERSION="${GUARDIAN_OPENSEARCH_VERSION:-2.19.6}"
OS_GROUP_ID="org.opensearch.distribution.integ-test-zip"
OS_ARTIFACT="$OS_GROUP_ID:opensearch:$OS_VERSION:zip"
OS_BASE="$SVC_DIR/opensearch"
OS_HOME="$OS_BASE/dist/opensearch-$OS_VERSION"
OS_HTTP=9250
OS_TRANSPORT=9350
OS_HEAP=512m
OS_CLUSTER_HEAP=384m
OS_CLUSTER_HTTP_BASE=9250      # node N: http 9250+N, transport 9350+N
OS_CLUSTER_TRANSPORT_BASE=9350
OS_SPARE_HTTP=9260
OS_SPARE_TRANSPORT=9360
MVN_DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

export PATH="$PATH:/usr/sbin:/sbin"   # slapd, slaptest, slappasswd, useradd for normal users too
export LDAPNOINIT=1            # ldap-utils: ignore /etc/ldap/ldap.conf and ~/.ldaprc

# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------
say()  { printf '[services %3ss] %s\n' "$SECONDS" "$*"; }  # seconds since the script started
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
die()  { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Prints the last lines of a log file to stderr (used when a service fails to come up).
show_log() {
    local f="$1"
    if [ -s "$f" ]; then
        printf '[services] ---- last lines of %s ----\n' "$f" >&2
        tail -n 40 "$f" >&2 || true
        printf '[services] ---- end of %s ----\n' "$f" >&2
    fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# True when PID is a live process (a zombie, not yet reaped by its parent, counts as dead).
alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)"
    [ -n "$state" ] && [ "$state" != Z ]
}

# The pid in a pid file if that process is alive AND its command line contains MARKER (so a
# recycled pid is never taken for ours). A pid file that fails the test is stale and removed.
live_pid() {
    local file="$1" marker="$2" pid
    [ -f "$file" ] || return 1
    pid="$(head -n 1 "$file" | tr -dc '0-9')"
    if [ -n "$pid" ] && alive "$pid" &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
        echo "$pid"
        return 0
    fi
    say "removing stale pid file $file" >&2
    rm -f "$file"
    return 1
}

# Resident memory (MiB) of a process and its children.
rss_mib() {
    local pid="$1" total=0 p kb
    for p in "$pid" $(pgrep -P "$pid" 2>/dev/null || true); do
        kb="$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)"
        total=$((total + ${kb:-0}))
    done
    echo $((total / 1024))
}

# Stops the process of a pid file (TERM, then KILL after a grace period). Never touches a pid
# that live_pid does not recognise.
stop_pidfile() {
    local name="$1" file="$2" marker="$3" grace="${4:-60}" pid i
    if ! pid="$(live_pid "$file" "$marker")"; then
        say "$name: not running"
        return 0
    fi
    say "$name: stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
        alive "$pid" || break
        sleep 0.2
    done
    if alive "$pid"; then
        warn "$name: still running after ${grace}s, sending KILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$file"
    say "$name: stopped"
}

# wait_until DESCRIPTION LOGFILE PID COMMAND...: runs COMMAND every half second until it succeeds,
# for at most $TIMEOUT seconds; fails early if PID (when not empty) exits.
wait_until() {
    local what="$1" log="$2" pid="$3" start=$SECONDS
    shift 3
    until "$@" >/dev/null 2>&1; do
        if [ -n "$pid" ] && ! alive "$pid"; then
            show_log "$log"
            die "$what: the process exited before answering (log: $log)"
        fi
        if ((SECONDS - start >= TIMEOUT)); then
            show_log "$log"
            die "$what: no answer after ${TIMEOUT}s (log: $log)"
        fi
        sleep 0.5
    done
}

# Runs a command as a system user when we are root (setpriv execs, so a backgrounded call's $!
# is the service's own pid); as a normal user, runs it as is.
run_as() {
    local user="$1"
    shift
    if is_root && [ "$user" != root ]; then
        setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
    else
        "$@"
    fi
}

ensure_system_user() {
    local user="$1"
    is_root || return 0
    id "$user" >/dev/null 2>&1 && return 0
    say "creating system user $user"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$user"
}

# The service user must reach its folder through the work tree's parent folders.
check_access() {
    local user="$1" dir="$2"
    mkdir -p "$dir"
    is_root || return 0
    run_as "$user" test -x "$dir" ||
        die "user $user cannot enter $dir (a parent folder is not world-executable); set GUARDIAN_SERVICES_DIR to a folder it can reach"
}

# The data folder ignores itself in git, whether or not the root .gitignore lists .services/.
ensure_svc_dir() {
    mkdir -p "$SVC_DIR"
    [ -f "$SVC_DIR/.gitignore" ] || printf '# written by scripts/services.sh\n*\n' >"$SVC_DIR/.gitignore"
}

# Owns a service folder by its user (a no-op when not root).
own() {
    local user="$1"
    shift
    if is_root; then chown -R "$user:$user" "$@"; fi
}

# --------------------------------------------------------------------------------------------
# Packages (Debian); one apt-get run for everything that is missing
# --------------------------------------------------------------------------------------------
APT_UPDATED=0

pg_bindir() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

missing_packages() {
    local target pkgs=()
    for target in "$@"; do
        case "$target" in
        slapd)
            command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || pkgs+=(slapd)
            command -v ldapsearch >/dev/null || pkgs+=(ldap-utils)
            ;;
        postgres)
            pg_bindir >/dev/null || pkgs+=(postgresql)
            ;;
        opensearch | cluster)
            java_home >/dev/null || pkgs+=(openjdk-17-jre-headless)
            command -v mvn >/dev/null || pkgs+=(maven)
            command -v unzip >/dev/null || pkgs+=(unzip)
            command -v curl >/dev/null || pkgs+=(curl)
            ;;
        browser)
            # The console's tests drive Debian's own headless Chromium, never a downloaded one.
            command -v chromium >/dev/null || pkgs+=(chromium)
            command -v chromedriver >/dev/null || pkgs+=(chromium-driver)
            ;;
        esac
        command -v pgrep >/dev/null || pkgs+=(procps)
    done
    ((${#pkgs[@]})) && printf '%s\n' "${pkgs[@]}" | sort -u | tr '\n' ' '
    return 0
}

install_packages() {
    local pkgs
    pkgs="$(missing_packages "$@")"
    [ -n "${pkgs// /}" ] || return 0
    is_root || die "missing packages: $pkgs— run this script as root (it uses apt-get) or install them"
    ensure_svc_dir
    export DEBIAN_FRONTEND=noninteractive
    if [[ " $pkgs " == *" slapd "* ]]; then
        # No system directory: the Debian slapd then has no database and starts nothing on 389.
        echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    fi
    if [ "$APT_UPDATED" = 0 ]; then
        say "apt-get update"
        apt-get update -qq >"$SVC_DIR/apt.log" 2>&1 || { show_log "$SVC_DIR/apt.log"; die "apt-get update failed"; }
        APT_UPDATED=1
    fi
    say "installing Debian packages: $pkgs"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $pkgs >>"$SVC_DIR/apt.log" 2>&1 ||
        { show_log "$SVC_DIR/apt.log"; die "apt-get install $pkgs failed"; }
    if [[ " $pkgs " == *" slapd "* ]]; then
        disable_system_slapd
    fi
}

# The package's own slapd (port 389) is not ours: make sure it is neither running nor enabled.
disable_system_slapd() {
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        systemctl disable --now slapd.service >/dev/null 2>&1 || true
    elif [ -x /etc/init.d/slapd ] && [ -f /var/run/slapd/slapd.pid ]; then
        /etc/init.d/slapd stop >/dev/null 2>&1 || true
    fi
    # Some slapd packages (Ubuntu's; not Debian 12's) ship an AppArmor profile that only allows
    # slapd its usual paths: where AppArmor is on, allow our own data folder too.
    if [ -d /sys/kernel/security/apparmor ] && [ -f /etc/apparmor.d/usr.sbin.slapd ] &&
        command -v apparmor_parser >/dev/null; then
        local local_rules=/etc/apparmor.d/local/usr.sbin.slapd
        if ! grep -qF "$SVC_DIR" "$local_rules" 2>/dev/null; then
            mkdir -p "$(dirname "$local_rules")"
            printf '%s\n' "# scripts/services.sh (Guardian tests)" "$ROOT/scripts/ldap/** r," \
                "$ROOT/policies/** r," "$SLAPD_DIR/ r," "$SLAPD_DIR/** rwk," >>"$local_rules"
            apparmor_parser -r /etc/apparmor.d/usr.sbin.slapd >/dev/null 2>&1 ||
                warn "could not reload the slapd AppArmor profile"
        fi
    fi
}

# --------------------------------------------------------------------------------------------
# slapd (OpenLDAP)
# --------------------------------------------------------------------------------------------
SLAPD_PIDFILE="$SLAPD_DIR/slapd.pid"
SLAPD_LOG="$SLAPD_DIR/slapd.log"
SLAPD_CONF="$SLAPD_DIR/slapd.conf"
SLAPD_DATA="$SLAPD_DIR/data"
SLAPD_SEEDED="$SLAPD_DATA/.guardian-seeded"

slapd_user() { if is_root; then echo openldap; else id -un; fi; }

slapd_write_config() {
    local user="$1" modules=/usr/lib/ldap hash
    hash="$(slappasswd -h '{SSHA}' -s "$LDAP_ADMIN_PW")"
    # slapd runs as its own user, which may not reach the work tree: it reads a copy.
    cp "$LDAP_SCHEMA" "$SLAPD_DIR/guardian.schema"
    cat >"$SLAPD_CONF" <<EOF
# Generated by scripts/services.sh: the Guardian test directory. Edits are overwritten.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $SLAPD_DIR/guardian.schema

modulepath $modules
moduleload back_mdb
moduleload memberof

# Root DSE and schema: readable by anyone (clients read them to discover the server).
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database config

database mdb
maxsize 1073741824
suffix "$LDAP_BASE"
rootdn "$LDAP_ADMIN_DN"
rootpw $hash
directory $SLAPD_DATA
index objectClass eq
index uid,cn,mail eq
index member eq

# The service account reads the whole directory in a sync (paged); slapd's default limits
# (500 entries) would cut a large organisation short, which Guardian refuses as a partial result.
limits dn.exact="$LDAP_SVC_DN" size=unlimited time=unlimited

# memberOf on users, kept in step with groupOfNames/member.
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

# Passwords: usable for binds only (anyone may bind with the right password, nobody but the
# entry itself and the admin can read or write them). The service account reads all else.
access to attrs=userPassword
    by self write
    by anonymous auth
    by * auth
# Access review remediation: a test sandbox's own write account (cn=guardian-writer in
# ou=t-<hex>, made by tests/ldap_support.py) may remove members from that sandbox's groups, and
# nothing else; the demo tree stays read-only for everyone but the admin.
access to dn.regex="^cn=[^,]+,ou=groups,(ou=t-[0-9a-f]+),$LDAP_BASE\$" attrs=member
    by dn.exact,expand="cn=guardian-writer,\$1,$LDAP_BASE" write
    by dn.exact="$LDAP_SVC_DN" read
    by self read
    by users read
    by * none
access to *
    by dn.exact="$LDAP_SVC_DN" read
    by self read
    by users read
    by * none
EOF
    mkdir -p "$SLAPD_DATA"
    # -u: check the configuration only (the database may not exist yet).
    slaptest -u -f "$SLAPD_CONF" >"$SLAPD_DIR/slaptest.log" 2>&1 || {
        show_log "$SLAPD_DIR/slaptest.log"
        die "slapd: the generated configuration does not load"
    }
    chmod 600 "$SLAPD_CONF"
    own "$user" "$SLAPD_DIR"
}

slapd_answers() { ldapsearch -x -H "$LDAP_URL" -o nettimeout=2 -b "" -s base -LLL namingContexts; }

slapd_launch() {
    local user pid
    user="$(slapd_user)"
    if port_open "$LDAP_PORT"; then
        die "slapd: port $LDAP_PORT is already in use by a process this script did not start"
    fi
    slapd_write_config "$user"
    local args=(-h "ldap://$HOST:$LDAP_PORT/" -f "$SLAPD_CONF" -d "${GUARDIAN_SLAPD_DEBUG:-none}")
    is_root && args+=(-u "$user" -g "$user")
    # -d keeps slapd in the foreground, its messages going to the log ("none": errors only;
    # GUARDIAN_SLAPD_DEBUG=stats logs every operation); setsid detaches it from us.
    setsid /usr/sbin/slapd "${args[@]}" </dev/null >>"$SLAPD_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$SLAPD_PIDFILE"
    wait_until "slapd" "$SLAPD_LOG" "$pid" slapd_answers
}

slapd_seed() {
    local svc_ldif="$SLAPD_DIR/service-account.ldif"
    say "slapd: loading $LDAP_SEED"
    ldapadd -x -H "$LDAP_URL" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" -f "$LDAP_SEED" \
        >"$SLAPD_DIR/seed.log" 2>&1 || { show_log "$SLAPD_DIR/seed.log"; die "slapd: loading the demo LDIF failed"; }
    cat >"$svc_ldif" <<EOF
dn: $LDAP_SVC_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: guardian-svc
description: Guardian read-only service account (tests)
userPassword: $(slappasswd -h '{SSHA}' -s "$LDAP_SVC_PW")
EOF
    ldapadd -x -H "$LDAP_URL" -D "$LDAP_ADMIN_DN" -w "$LDAP_ADMIN_PW" -f "$svc_ldif" \
        >>"$SLAPD_DIR/seed.log" 2>&1 || { show_log "$SLAPD_DIR/seed.log"; die "slapd: adding the service account failed"; }
    rm -f "$svc_ldif"
    touch "$SLAPD_SEEDED"
}

# The checks the tests rely on: the service account reads the users but no password, and a
# user binds with its own password.
slapd_verify() {
    local n
    n="$(ldapsearch -x -H "$LDAP_URL" -D "$LDAP_SVC_DN" -w "$LDAP_SVC_PW" -b "ou=people,$LDAP_BASE" \
        -LLL '(objectClass=guardianPerson)' uid userPassword 2>&1)" ||
        die "slapd: search as the service account failed: $n"
    grep -q '^userPassword' <<<"$n" && die "slapd: the service account can read userPassword"
    n="$(grep -c '^uid:' <<<"$n" || true)"
    local want
    want="$(grep -c '^uid:' "$ROOT/policies/demo/demo.ldif")"
    [ "$n" = "$want" ] || die "slapd: expected $want demo users (demo.ldif), the service account sees $n"
    ldapwhoami -x -H "$LDAP_URL" -D "uid=alice,ou=people,$LDAP_BASE" -w alice-demo-pass >/dev/null 2>&1 ||
        die "slapd: alice cannot bind with her demo password"
    say "slapd: verified (service account sees $n users and no password; alice binds)"
}

slapd_start() {
    local pid t0=$SECONDS
    mkdir -p "$SLAPD_DIR"
    [ -f "$LDAP_SEED" ] || die "slapd: seed file $LDAP_SEED is missing"
    if pid="$(live_pid "$SLAPD_PIDFILE" "$SLAPD_CONF")" && [ -f "$SLAPD_SEEDED" ]; then
        say "slapd: already running (pid $pid) on $LDAP_URL"
        return 0
    fi
    if [ -n "${pid:-}" ]; then # running, but the seed never completed: start over
        stop_pidfile slapd "$SLAPD_PIDFILE" "$SLAPD_CONF" 30
    fi
    ensure_system_user "$(slapd_user)"
    check_access "$(slapd_user)" "$SLAPD_DIR"
    if [ ! -f "$SLAPD_SEEDED" ]; then
        rm -rf "$SLAPD_DATA" # a new (or half-seeded) directory: begin from an empty database
    fi
    say "slapd: starting on $LDAP_URL"
    slapd_launch
    [ -f "$SLAPD_SEEDED" ] || slapd_seed
    slapd_verify
    say "slapd: up (pid $(cat "$SLAPD_PIDFILE"), $((SECONDS - t0))s)"
}

slapd_stop() { stop_pidfile slapd "$SLAPD_PIDFILE" "$SLAPD_CONF" 30; }

slapd_reseed() {
    slapd_stop
    rm -rf "$SLAPD_DATA"
    slapd_start
}

# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
PG_LOG="$PG_DIR/log/postgres.log"

pg_user() { if is_root; then echo postgres; else id -un; fi; }

pg_ctl_as() { run_as "$(pg_user)" "$PG_BIN/pg_ctl" -D "$PG_DATA" "$@"; }

# The postmaster's pid when it runs. postmaster.pid naming a dead (or zombie) process is removed:
# PostgreSQL would otherwise refuse to start while that pid still exists as a zombie.
pg_pid() { live_pid "$PG_DATA/postmaster.pid" "$PG_DATA"; }

pg_answers() { "$PG_BIN/pg_isready" -q -h "$HOST" -p "$PG_PORT" -t 2; }

# shellcheck disable=SC2120  # extra psql arguments are optional
pg_psql_admin() {
    run_as "$(pg_user)" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" \
        -U "$(pg_user)" -d postgres "$@"
}

pg_init() {
    local user="$1"
    say "postgres: initdb $PG_DATA"
    mkdir -p "$PG_DATA"
    chmod 700 "$PG_DATA"
    own "$user" "$PG_DIR"
    run_as "$user" "$PG_BIN/initdb" -D "$PG_DATA" -U "$user" -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 -N >"$PG_DIR/log/initdb.log" 2>&1 || {
        show_log "$PG_DIR/log/initdb.log"
        die "postgres: initdb failed"
    }
    echo "include_if_exists = 'guardian.conf'" >>"$PG_DATA/postgresql.conf"
}

pg_write_config() {
    cat >"$PG_DATA/guardian.conf" <<EOF
# Written by scripts/services.sh on every start: the Guardian test server. Disposable data,
# so durability is traded for speed (fsync off).
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
unix_socket_permissions = 0700
password_encryption = scram-sha-256
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

pg_ensure_database() {
    pg_psql_admin <<EOF
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '$PG_USER', '$PG_PW')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE "$PG_USER" LOGIN PASSWORD '$PG_PW';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
}

pg_verify() {
    local out
    out="$(PGPASSWORD="$PG_PW" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -tA -h "$HOST" -p "$PG_PORT" \
        -U "$PG_USER" -d "$PG_DB" -c 'select current_user, current_database()' 2>&1)" ||
        die "postgres: $PG_USER cannot connect with its password: $out"
    [ "$out" = "$PG_USER|$PG_DB" ] || die "postgres: unexpected answer: $out"
    say "postgres: verified ($PG_USER logs in to $PG_DB over TCP with its password)"
}

postgres_start() {
    local user pid t0=$SECONDS
    PG_BIN="$(pg_bindir)" || die "postgres: no PostgreSQL server found in /usr/lib/postgresql"
    user="$(pg_user)"
    mkdir -p "$PG_DIR/log" "$PG_RUN"
    if pid="$(pg_pid)"; then
        say "postgres: already running (pid $pid) on $HOST:$PG_PORT"
        pg_ensure_database
        return 0
    fi
    local sock="$PG_RUN/.s.PGSQL.$PG_PORT"
    ((${#sock} < 100)) || die "postgres: socket path $sock is too long for a unix socket; set GUARDIAN_SERVICES_DIR"
    ensure_system_user "$user"
    check_access "$user" "$PG_DIR"
    [ -f "$PG_DATA/PG_VERSION" ] || pg_init "$user"
    if port_open "$PG_PORT"; then
        die "postgres: port $PG_PORT is already in use by a process this script did not start"
    fi
    pg_write_config
    # Not running (checked above): a socket lock file left by a killed server is stale too.
    rm -f "$sock" "$sock.lock"
    own "$user" "$PG_DIR"
    say "postgres: starting $(basename "$(dirname "$PG_BIN")") on $HOST:$PG_PORT"
    # pg_ctl checks postmaster.pid itself: a stale one (dead pid) does not stop the start.
    if ! pg_ctl_as -l "$PG_LOG" -w -t "$TIMEOUT" start >"$PG_DIR/log/pg_ctl.log" 2>&1; then
        show_log "$PG_LOG"
        die "postgres: pg_ctl start failed (log: $PG_LOG)"
    fi
    wait_until postgres "$PG_LOG" "" pg_answers
    pg_ensure_database
    pg_verify
    say "postgres: up (pid $(head -n 1 "$PG_DATA/postmaster.pid"), $((SECONDS - t0))s)"
}

postgres_stop() {
    PG_BIN="$(pg_bindir)" || { say "postgres: not installed"; return 0; }
    local pid
    if ! pid="$(pg_pid)"; then
        say "postgres: not running"
        return 0
    fi
    say "postgres: stopping (pid $pid)"
    pg_ctl_as -m fast -w -t 60 stop >/dev/null
    say "postgres: stopped"
}

# --------------------------------------------------------------------------------------------
# OpenSearch
# --------------------------------------------------------------------------------------------
os_user() { if is_root; then echo opensearch; else id -un; fi; }

# JAVA_HOME of a Java 11+ runtime: OPENSEARCH_JAVA_HOME, JAVA_HOME, or the `java` on PATH.
java_home() {
    local h j
    for h in "${OPENSEARCH_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
        [ -n "$h" ] && [ -x "$h/bin/java" ] && { echo "$h"; return 0; }
    done
    j="$(command -v java 2>/dev/null)" || return 1
    j="$(readlink -f "$j")"
    echo "${j%/bin/java}"
}

# Fetches the distribution with Maven (cached in the local Maven repository) and unpacks it.
os_install() {
    [ -x "$OS_HOME/bin/opensearch" ] && return 0
    local dl="$OS_BASE/download" zip
    mkdir -p "$dl" "$OS_BASE/dist"
    say "opensearch: fetching $OS_ARTIFACT with Maven"
    if ! mvn -B -q "$MVN_DEP_PLUGIN:copy" -Dartifact="$OS_ARTIFACT" -DoutputDirectory="$dl" \
        >"$dl/mvn.log" 2>&1; then
        show_log "$dl/mvn.log"
        die "opensearch: Maven could not fetch $OS_ARTIFACT (set GUARDIAN_OPENSEARCH_VERSION to a 2.x version that Maven Central has)"
    fi
    zip="$dl/opensearch-$OS_VERSION.zip"
    rm -rf "$OS_HOME.partial"
    mkdir -p "$OS_HOME.partial"
    unzip -q "$zip" -d "$OS_HOME.partial"
    mv "$OS_HOME.partial/opensearch-$OS_VERSION" "$OS_HOME"
    rm -rf "$OS_HOME.partial" "$zip"
    chmod -R a+rX "$OS_HOME"
    say "opensearch: unpacked $OS_VERSION into $OS_HOME (modules: $(ls "$OS_HOME/modules" | tr '\n' ' '))"
    os_try_ism
}

# The integ-test zip carries no plugins. Index State Management (ISM) is the
# opensearch-index-management plugin, which needs opensearch-job-scheduler; both are tried from
# Maven Central at the distribution's version and installed only if both are there.
os_try_ism() {
    local status_file="$OS_HOME/.guardian-ism" v="$OS_VERSION.0" dl="$OS_BASE/download" a
    if [ "${GUARDIAN_OPENSEARCH_TRY_ISM:-1}" != 1 ]; then
        echo "not tried (GUARDIAN_OPENSEARCH_TRY_ISM=0)" >"$status_file"
        return 0
    fi
    for a in opensearch-index-management opensearch-job-scheduler; do
        if ! mvn -B -q "$MVN_DEP_PLUGIN:copy" -Dartifact="org.opensearch.plugin:$a:$v:zip" \
            -DoutputDirectory="$dl" >"$dl/mvn-$a.log" 2>&1; then
            echo "unavailable: org.opensearch.plugin:$a:$v:zip is not on Maven Central" >"$status_file"
            say "opensearch: ISM not installed ($(cat "$status_file"))"
            return 0
        fi
    done
    for a in opensearch-job-scheduler opensearch-index-management; do
        "$OS_HOME/bin/opensearch-plugin" install --batch "file://$dl/$a-$v.zip" >"$dl/install-$a.log" 2>&1 || {
            echo "install of $a failed (see $dl/install-$a.log)" >"$status_file"
            warn "opensearch: ISM plugin install failed: $(tail -n 3 "$dl/install-$a.log")"
            return 0
        }
    done
    echo "installed: org.opensearch.plugin:opensearch-index-management:$v" >"$status_file"
    say "opensearch: ISM installed ($v)"
}

# os_node_config DIR CLUSTER NODE HTTP TRANSPORT [EXTRA_YAML]: a node's config/data/log folders.
os_node_config() {
    local dir="$1" cluster="$2" node="$3" http="$4" transport="$5" extra="${6:-}"
    mkdir -p "$dir/config" "$dir/data" "$dir/logs" "$dir/tmp"
    cp "$OS_HOME/config/log4j2.properties" "$dir/config/"
    # The distribution's jvm.options, less its fixed 1g heap (OPENSEARCH_JAVA_OPTS sets ours) and
    # with the GC log, heap dumps and crash files in the node's own folders.
    sed -e '/^-Xm[sx]/d' \
        -e "s#file=logs/gc.log#file=$dir/logs/gc.log#" -e 's#filecount=32,filesize=64m#filecount=2,filesize=16m#' \
        -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" -e "s#ErrorFile=logs/#ErrorFile=$dir/logs/#" \
        "$OS_HOME/config/jvm.options" >"$dir/config/jvm.options"
    mkdir -p "$dir/config/jvm.options.d"
    cat >"$dir/config/opensearch.yml" <<EOF
# Written by scripts/services.sh on every start.
cluster.name: $cluster
node.name: $node
path.data: $dir/data
path.logs: $dir/logs
network.host: $HOST
http.port: $http
transport.port: $transport
# Tests run on whatever disk is there: never turn indices read-only for disk watermarks.
cluster.routing.allocation.disk.threshold_enabled: false
$extra
EOF
    own "$(os_user)" "$dir"
}

# A node's pid file, and the marker that its command line carries from the first exec on (the
# -p argument), so that live_pid recognises it even before bin/opensearch has exec'd the JVM.
os_pidfile() { echo "$1/opensearch.pid"; }
os_marker() { echo "$1/java.pid"; }

# os_launch NAME DIR HEAP: starts a node in the background.
os_launch() {
    local name="$1" dir="$2" heap="$3" jh pid as_user=()
    jh="$(java_home)" || die "$name: no Java runtime found (set OPENSEARCH_JAVA_HOME)"
    : >"$dir/logs/console.log"
    own "$(os_user)" "$dir/logs"
    if is_root; then as_user=(setpriv --reuid="$(os_user)" --regid="$(os_user)" --init-groups --); fi
    # env, setsid, setpriv and bin/opensearch all exec: $! is the JVM's pid.
    env OPENSEARCH_JAVA_HOME="$jh" OPENSEARCH_PATH_CONF="$dir/config" OPENSEARCH_TMPDIR="$dir/tmp" \
        OPENSEARCH_JAVA_OPTS="-Xms$heap -Xmx$heap" \
        setsid "${as_user[@]}" "$OS_HOME/bin/opensearch" -p "$(os_marker "$dir")" \
        </dev/null >>"$dir/logs/console.log" 2>&1 &
    pid=$!
    echo "$pid" >"$(os_pidfile "$dir")"
    say "$name: launched (pid $pid, heap $heap, Java $jh)"
}

os_health() { curl -fsS --max-time 10 "http://$HOST:$1/_cluster/health?$2" >/dev/null; }

os_plugins_line() {
    local plugins
    plugins="$(curl -fsS --max-time 5 "http://$HOST:$1/_cat/plugins?h=component" 2>/dev/null | sort -u | tr '\n' ' ')"
    echo "plugins: ${plugins:-none}; ISM: $(cat "$OS_HOME/.guardian-ism" 2>/dev/null || echo unknown)"
}

os_single_dir() { echo "$OS_BASE/node1"; }

opensearch_launch() {
    local dir pid
    dir="$(os_single_dir)"
    if pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")")"; then
        say "opensearch: already running (pid $pid) on http://$HOST:$OS_HTTP"
        return 0
    fi
    port_open "$OS_HTTP" && die "opensearch: port $OS_HTTP is already in use by a process this script did not start"
    port_open "$OS_TRANSPORT" && die "opensearch: port $OS_TRANSPORT is already in use by a process this script did not start"
    ensure_system_user "$(os_user)"
    check_access "$(os_user)" "$OS_BASE"
    os_install
    os_node_config "$dir" guardian-test guardian-node1 "$OS_HTTP" "$OS_TRANSPORT" "discovery.type: single-node"
    os_launch opensearch "$dir" "$OS_HEAP"
}

opensearch_wait() {
    local dir t0=$SECONDS
    dir="$(os_single_dir)"
    wait_until "opensearch" "$dir/logs/console.log" "$(cat "$(os_pidfile "$dir")")" \
        os_health "$OS_HTTP" "wait_for_status=yellow&timeout=5s"
    say "opensearch: up on http://$HOST:$OS_HTTP, status yellow or better ($(os_plugins_line "$OS_HTTP"))"
}

opensearch_stop() {
    local dir
    dir="$(os_single_dir)"
    stop_pidfile opensearch "$(os_pidfile "$dir")" "$(os_marker "$dir")" 60
}

# ---- the spare single node (stopped and restarted by tests) ---------------------------------
os_spare_dir() { echo "$OS_BASE/spare"; }

spare_launch() {
    local dir pid
    dir="$(os_spare_dir)"
    if pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")")"; then
        say "spare: already running (pid $pid) on http://$HOST:$OS_SPARE_HTTP"
        return 0
    fi
    port_open "$OS_SPARE_HTTP" && die "spare: port $OS_SPARE_HTTP is already in use by a process this script did not start"
    ensure_system_user "$(os_user)"
    check_access "$(os_user)" "$OS_BASE"
    os_install
    os_node_config "$dir" guardian-test-spare guardian-spare "$OS_SPARE_HTTP" "$OS_SPARE_TRANSPORT" "discovery.type: single-node"
    os_launch spare "$dir" "$OS_CLUSTER_HEAP"
}

spare_wait() {
    local dir
    dir="$(os_spare_dir)"
    wait_until "spare" "$dir/logs/console.log" "$(cat "$(os_pidfile "$dir")")" \
        os_health "$OS_SPARE_HTTP" "wait_for_status=yellow&timeout=5s"
    say "spare: up on http://$HOST:$OS_SPARE_HTTP"
}

spare_stop() {
    local dir
    dir="$(os_spare_dir)"
    stop_pidfile spare "$(os_pidfile "$dir")" "$(os_marker "$dir")" 60
}

# ---- the 3-node cluster ----------------------------------------------------------------------
cluster_dir() { echo "$OS_BASE/cluster/node$1"; }

cluster_node_launch() {
    local n="$1" dir pid seeds managers i
    dir="$(cluster_dir "$n")"
    if pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")")"; then
        say "cluster node $n: already running (pid $pid) on http://$HOST:$((OS_CLUSTER_HTTP_BASE + n))"
        return 0
    fi
    port_open $((OS_CLUSTER_HTTP_BASE + n)) &&
        die "cluster node $n: port $((OS_CLUSTER_HTTP_BASE + n)) is already in use by a process this script did not start"
    ensure_system_user "$(os_user)"
    check_access "$(os_user)" "$OS_BASE"
    os_install
    seeds="" managers=""
    for i in 1 2 3; do
        seeds+="${seeds:+, }\"$HOST:$((OS_CLUSTER_TRANSPORT_BASE + i))\""
        managers+="${managers:+, }\"guardian-c3-node$i\""
    done
    os_node_config "$dir" guardian-test-3 "guardian-c3-node$n" $((OS_CLUSTER_HTTP_BASE + n)) \
        $((OS_CLUSTER_TRANSPORT_BASE + n)) \
        "discovery.seed_hosts: [$seeds]
cluster.initial_cluster_manager_nodes: [$managers]"
    os_launch "cluster node $n" "$dir" "$OS_CLUSTER_HEAP"
}

# Waits until node N answers HTTP and sees the cluster with its cluster manager.
cluster_node_wait() {
    local n="$1" dir
    dir="$(cluster_dir "$n")"
    wait_until "cluster node $n" "$dir/logs/console.log" "$(cat "$(os_pidfile "$dir")")" \
        os_health $((OS_CLUSTER_HTTP_BASE + n)) "timeout=5s"
}

cluster_launch() {
    local n
    for n in 1 2 3; do cluster_node_launch "$n"; done
}

cluster_wait() {
    local n t0=$SECONDS
    for n in 1 2 3; do cluster_node_wait "$n"; done
    wait_until "cluster (green, 3 nodes)" "$(cluster_dir 1)/logs/console.log" "" \
        os_health $((OS_CLUSTER_HTTP_BASE + 1)) "wait_for_status=green&wait_for_nodes=3&timeout=5s"
    say "cluster: up, green with 3 nodes on http://$HOST:9251-9253 ($((SECONDS - t0))s)"
}

cluster_stop() {
    local n dir
    for n in 3 2 1; do
        dir="$(cluster_dir "$n")"
        stop_pidfile "cluster node $n" "$(os_pidfile "$dir")" "$(os_marker "$dir")" 60
    done
}

cluster_start_node() {
    local n="$1" t0=$SECONDS
    cluster_node_launch "$n"
    cluster_node_wait "$n"
    wait_until "cluster node $n joined" "$(cluster_dir "$n")/logs/console.log" "" \
        os_health $((OS_CLUSTER_HTTP_BASE + n)) "wait_for_nodes=3&timeout=5s"
    say "cluster node $n: up and joined ($((SECONDS - t0))s)"
}

cluster_stop_node() {
    local dir
    dir="$(cluster_dir "$1")"
    stop_pidfile "cluster node $1" "$(os_pidfile "$dir")" "$(os_marker "$dir")" 60
}

# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------
expand_targets() {
    local t out=()
    (($#)) || set -- all
    for t in "$@"; do
        case "$t" in
        all) out+=(slapd postgres opensearch browser) ;;
        everything) out+=(slapd postgres opensearch cluster spare) ;;
        slapd | postgres | opensearch | cluster | spare | browser) out+=("$t") ;;
        ldap) out+=(slapd) ;;
        postgresql | pg) out+=(postgres) ;;
        *) die "unknown service '$t' (slapd, postgres, opensearch, cluster, spare, browser, all, everything)" ;;
        esac
    done
    printf '%s\n' "${out[@]}" | awk '!seen[$0]++' | tr '\n' ' '
}

has() { [[ " $1 " == *" $2 "* ]]; }

cmd_start() {
    local targets t0=$SECONDS
    targets="$(expand_targets "$@")"
    ensure_svc_dir
    # shellcheck disable=SC2086
    install_packages $targets
    # The JVMs take longest to come up: launch them first, wait for them last.
    has "$targets" opensearch && opensearch_launch
    has "$targets" cluster && cluster_launch
    has "$targets" spare && spare_launch
    has "$targets" slapd && slapd_start
    has "$targets" postgres && postgres_start
    has "$targets" opensearch && opensearch_wait
    has "$targets" cluster && cluster_wait
    has "$targets" spare && spare_wait
    say "started: $targets($((SECONDS - t0))s)"
}

cmd_stop() {
    local targets
    targets="$(expand_targets "$@")"
    has "$targets" cluster && cluster_stop
    has "$targets" spare && spare_stop
    has "$targets" opensearch && opensearch_stop
    has "$targets" postgres && postgres_stop
    has "$targets" slapd && slapd_stop
    return 0
}

status_line() {
    local name="$1" pid="$2" where="$3"
    if [ -n "$pid" ]; then
        printf '%-16s up    pid %-8s rss %5s MiB  %s\n' "$name" "$pid" "$(rss_mib "$pid")" "$where"
    else
        printf '%-16s down\n' "$name"
    fi
}

cmd_status() {
    local pid n dir
    pid="$(live_pid "$SLAPD_PIDFILE" "$SLAPD_CONF" 2>/dev/null)" || pid=""
    status_line slapd "$pid" "$LDAP_URL"
    pid="$(pg_pid 2>/dev/null)" || pid=""
    status_line postgres "$pid" "postgresql://$HOST:$PG_PORT/$PG_DB"
    dir="$(os_single_dir)"
    pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")" 2>/dev/null)" || pid=""
    status_line opensearch "$pid" "http://$HOST:$OS_HTTP"
    [ -n "$pid" ] && printf '%-16s       %s\n' "" "$(os_plugins_line "$OS_HTTP")"
    for n in 1 2 3; do
        dir="$(cluster_dir "$n")"
        pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")" 2>/dev/null)" || pid=""
        status_line "cluster node $n" "$pid" "http://$HOST:$((OS_CLUSTER_HTTP_BASE + n))"
    done
    dir="$(os_spare_dir)"
    pid="$(live_pid "$(os_pidfile "$dir")" "$(os_marker "$dir")" 2>/dev/null)" || pid=""
    status_line spare "$pid" "http://$HOST:$OS_SPARE_HTTP"
}

cmd_env() {
    cat <<EOF
export GUARDIAN_TEST_LDAP_URL=$LDAP_URL
export GUARDIAN_TEST_LDAP_BASE_DN=$LDAP_BASE
export GUARDIAN_TEST_LDAP_BIND_DN=$LDAP_SVC_DN
export GUARDIAN_TEST_LDAP_BIND_PASSWORD=$LDAP_SVC_PW
export GUARDIAN_TEST_LDAP_ADMIN_DN=$LDAP_ADMIN_DN
export GUARDIAN_TEST_LDAP_ADMIN_PASSWORD=$LDAP_ADMIN_PW
export GUARDIAN_TEST_DATABASE_URL=postgresql+psycopg://$PG_USER:$PG_PW@$HOST:$PG_PORT/$PG_DB
export GUARDIAN_TEST_OPENSEARCH_URL=http://$HOST:$OS_HTTP
export GUARDIAN_TEST_OPENSEARCH_CLUSTER_URLS=http://$HOST:9251,http://$HOST:9252,http://$HOST:9253
export GUARDIAN_TEST_OPENSEARCH_SPARE_URL=http://$HOST:$OS_SPARE_HTTP
EOF
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }

node_arg() {
    [[ "${1:-}" =~ ^[123]$ ]] || die "expected a cluster node number 1, 2 or 3"
    echo "$1"
}

main() {
    local cmd="${1:-help}" n
    if (($#)); then shift; fi
    case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart)
        cmd_stop "$@"
        cmd_start "$@"
        ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reseed)
        [ "${1:-}" = slapd ] || die "usage: $0 reseed slapd"
        ensure_svc_dir
        install_packages slapd
        slapd_reseed
        ;;
    start-node)
        n="$(node_arg "${1:-}")"
        ensure_svc_dir
        install_packages cluster
        cluster_start_node "$n"
        ;;
    stop-node)
        n="$(node_arg "${1:-}")"
        cluster_stop_node "$n"
        ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
    esac
}

main "$@"
