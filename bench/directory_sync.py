"""Benchmark of a full directory sync from slapd: 100 000 users and 1 000 groups.

Loads a generated organisation into the test slapd of ``scripts/services.sh`` under a subtree of
its own (``ou=bench,<base>``: people with Guardian's attributes, 2 % disabled, 10 % contractors
of which half have the clause, one in ten with a manager; every user in one group, one in ten in
a second), with ``ldapadd`` in two parallel processes. Then it times what the server does every
sync interval: ``SyncedDirectory.sync()`` with the LDAP adapter (paged searches of
``--paged-size`` entries, groups → roles, users → principals, diff, snapshot written atomically),
once on an empty snapshot and once more with nothing changed. It checks the principals read
against what was generated, removes the subtree (groups first, then people, two processes) and
checks that slapd still serves the demo organisation.

    eval "$(scripts/services.sh env)"
    python bench/directory_sync.py --users 100000 --groups 1000 --json

``--keep`` leaves the subtree in place and ``--reuse`` syncs one left by an earlier ``--keep``.
With ``--json`` the last line of output is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ldap3 import Connection, Server

from guardian.adapters.files.snapshot import FileSnapshotStore
from guardian.adapters.ldap.connection import LdapConfig, LdapConnections
from guardian.adapters.ldap.directory import LdapDirectory, LdapLayout
from guardian.clock import SystemClock
from guardian.identity.directory_sync import SyncedDirectory

ENV = {k: os.environ.get(f"GUARDIAN_TEST_LDAP_{k}", "") for k in
       ("URL", "BASE_DN", "BIND_DN", "BIND_PASSWORD", "ADMIN_DN", "ADMIN_PASSWORD")}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def uid_of(i: int) -> str:
    return f"b{i:06d}"


def role_of(g: int) -> str:
    return f"bench-role-{g:04d}"


def user_entries(root: str, users: int, lo: int, hi: int) -> Iterator[str]:
    people = f"ou=people,{root}"
    for i in range(lo, hi):
        uid = uid_of(i)
        lines = [f"dn: uid={uid},{people}", "objectClass: inetOrgPerson",
                 "objectClass: guardianPerson", f"uid: {uid}", f"cn: Bench User {i}",
                 f"sn: User{i}", f"guardianAccountDisabled: {'TRUE' if i % 50 == 7 else 'FALSE'}"]
        if i % 10 == 3:
            lines += ["guardianEmployeeType: contractor", f"guardianSupplier: Supplier {i % 37}",
                      f"guardianContractClause: {'TRUE' if i % 20 == 3 else 'FALSE'}"]
        else:
            lines.append("guardianEmployeeType: employee")
        if i % 10 == 5:
            lines.append(f"manager: uid={uid_of(i - i % 100)},{people}")
        yield "\n".join(lines) + "\n\n"


def groups_of(i: int, groups: int) -> set[int]:
    return {i % groups, (i * 7 + 3) % groups} if i % 10 == 1 else {i % groups}


def group_entries(root: str, users: int, groups: int) -> Iterator[str]:
    members: list[list[int]] = [[] for _ in range(groups)]
    for i in range(users):
        for g in groups_of(i, groups):
            members[g].append(i)
    people = f"ou=people,{root}"
    for g, uids in enumerate(members):
        lines = [f"dn: cn={role_of(g)},ou=groups,{root}", "objectClass: groupOfNames",
                 f"cn: {role_of(g)}"]
        lines += [f"member: uid={uid_of(i)},{people}" for i in uids]
        yield "\n".join(lines) + "\n\n"


def ldap_tool(tool: str, *args: str) -> list[str]:
    return [tool, "-x", "-c", "-H", ENV["URL"], "-D", ENV["ADMIN_DN"], "-w", ENV["ADMIN_PASSWORD"],
            *args]


def run_parallel(commands: list[list[str]], what: str) -> None:
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for c in commands]
    errors = [p.communicate()[1].decode(errors="replace") for p in procs]
    failed = [(p.returncode, e) for p, e in zip(procs, errors, strict=True) if p.returncode]
    if failed:
        raise SystemExit(f"{what} failed: {failed[0][1][-2000:]}")


def load(root: str, users: int, groups: int, workdir: Path) -> dict[str, float]:
    top = workdir / "top.ldif"
    top.write_text("".join(
        f"dn: {dn}\nobjectClass: organizationalUnit\nou: {dn.split(',')[0][3:]}\n\n"
        for dn in (root, f"ou=people,{root}", f"ou=groups,{root}")))
    run_parallel([ldap_tool("ldapadd", "-f", str(top))], "adding the bench subtree")
    halves = [(0, users // 2), (users // 2, users)]
    files = []
    for n, (lo, hi) in enumerate(halves):
        path = workdir / f"users-{n}.ldif"
        with path.open("w") as f:
            f.writelines(user_entries(root, users, lo, hi))
        files.append(path)
    group_file = workdir / "groups.ldif"
    with group_file.open("w") as f:
        f.writelines(group_entries(root, users, groups))
    t0 = time.perf_counter()
    run_parallel([ldap_tool("ldapadd", "-f", str(p)) for p in files], "loading users")
    t1 = time.perf_counter()
    run_parallel([ldap_tool("ldapadd", "-f", str(group_file))], "loading groups")
    t2 = time.perf_counter()
    log(f"loaded {users:,} users in {t1 - t0:.1f} s and {groups:,} groups in {t2 - t1:.1f} s")
    return {"load_users_s": round(t1 - t0, 1), "load_groups_s": round(t2 - t1, 1)}


def remove(root: str, users: int, groups: int, workdir: Path) -> float:
    """Delete groups first (no member bookkeeping left for the users), then people, then OUs."""
    t0 = time.perf_counter()
    gfile = workdir / "groups.dn"
    gfile.write_text("".join(f"cn={role_of(g)},ou=groups,{root}\n" for g in range(groups)))
    run_parallel([ldap_tool("ldapdelete", "-f", str(gfile))], "deleting groups")
    files = []
    for n, (lo, hi) in enumerate([(0, users // 2), (users // 2, users)]):
        path = workdir / f"users-{n}.dn"
        path.write_text("".join(f"uid={uid_of(i)},ou=people,{root}\n" for i in range(lo, hi)))
        files.append(path)
    run_parallel([ldap_tool("ldapdelete", "-f", str(p)) for p in files], "deleting users")
    # -r: whatever is left (an earlier run's leftovers), then the OUs themselves.
    subprocess.run(ldap_tool("ldapdelete", "-r", root), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def subtree_exists(root: str) -> bool:
    conn = Connection(Server(ENV["URL"]), ENV["ADMIN_DN"], ENV["ADMIN_PASSWORD"], auto_bind=True)
    found = conn.search(root, "(objectClass=organizationalUnit)", search_scope="BASE")
    conn.unbind()
    return bool(found)


def demo_still_served() -> bool:
    conn = Connection(Server(ENV["URL"]), ENV["BIND_DN"], ENV["BIND_PASSWORD"], auto_bind=True)
    conn.search(f"ou=people,{ENV['BASE_DN']}", "(objectClass=inetOrgPerson)", attributes=["uid"])
    count = len(conn.entries)
    conn.unbind()
    alice = Connection(Server(ENV["URL"]), f"uid=alice,ou=people,{ENV['BASE_DN']}",
                       "alice-demo-pass")
    ok = alice.bind()
    alice.unbind()
    return count == 11 and ok


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_sync(root: str, users: int, groups: int, paged_size: int, workdir: Path,
              bind: str) -> dict[str, Any]:
    dn, password = (ENV["ADMIN_DN"], ENV["ADMIN_PASSWORD"]) if bind == "admin" else \
        (ENV["BIND_DN"], ENV["BIND_PASSWORD"])
    connections = LdapConnections(LdapConfig((ENV["URL"],), dn, password, timeout_s=30))
    source = LdapDirectory(connections, LdapLayout(
        f"ou=people,{root}", f"ou=groups,{root}", frozenset(role_of(g) for g in range(groups)),
        paged_size=paged_size))
    store = FileSnapshotStore(workdir / "snapshot.json", b"b" * 32)
    directory = SyncedDirectory(source, SystemClock(), store)
    rss_before = rss_mb()
    t0 = time.perf_counter()
    first = directory.sync()
    full_s = time.perf_counter() - t0
    log(f"full sync: {first.users:,} users in {full_s:.1f} s "
        f"({first.users / full_s:,.0f} users/s), {first.diff.summary()}")
    t0 = time.perf_counter()
    second = directory.sync()
    again_s = time.perf_counter() - t0
    log(f"sync with nothing changed: {again_s:.1f} s, {second.diff.summary()}")
    t0 = time.perf_counter()
    reloaded = store.load()
    load_s = time.perf_counter() - t0
    principals = list(directory.principals())
    problems = check(principals, users, groups)
    source.close()
    return {
        "users_read": first.users, "full_sync_s": round(full_s, 2),
        "users_per_s": round(first.users / full_s), "unchanged_sync_s": round(again_s, 2),
        "unchanged_diff_empty": second.diff.empty, "snapshot_mb": round(
            (workdir / "snapshot.json").stat().st_size / 1e6, 1),
        "snapshot_load_s": round(load_s, 2), "snapshot_reloaded": reloaded is not None
        and len(reloaded) == users, "rss_before_sync_mb": round(rss_before),
        "peak_rss_mb": round(rss_mb()), "warnings": len(source.warnings), "problems": problems,
    }


def check(principals: list[Any], users: int, groups: int) -> list[str]:
    problems = []
    if len(principals) != users:
        problems.append(f"read {len(principals)} users, expected {users}")
    by_uid = {p.uid: p for p in principals}
    for i in range(0, users, max(1, users // 997)):
        p = by_uid.get(uid_of(i))
        expected_roles = {role_of(g) for g in groups_of(i, groups)}
        if p is None or p.roles != expected_roles or p.active != (i % 50 != 7) or \
                p.is_contractor != (i % 10 == 3) or \
                (i % 10 == 3 and p.contract_clause != (i % 20 == 3)) or \
                (i % 10 == 5 and p.manager != uid_of(i - i % 100)):
            problems.append(f"user {uid_of(i)} read as {p}")
    return problems[:5]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--groups", type=int, default=1_000)
    ap.add_argument("--paged-size", type=int, default=1_000)
    ap.add_argument("--keep", action="store_true", help="leave the bench subtree in slapd")
    ap.add_argument("--reuse", action="store_true", help="sync a subtree left by --keep")
    ap.add_argument("--bind", choices=["service", "admin"], default="service",
                    help="sync as the service account (default) or as the admin, which no "
                    "size limit applies to (a slapd started before its service account's limits "
                    "were lifted stops it at 500 entries)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not all(ENV.values()):
        raise SystemExit('run `eval "$(scripts/services.sh env)"` first')
    root = f"ou=bench,{ENV['BASE_DN']}"
    results: dict[str, Any] = {"users": args.users, "groups": args.groups,
                               "paged_size": args.paged_size, "bind": args.bind,
                               "python": platform.python_version(),
                               "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="guardian-bench-") as tmp:
        workdir = Path(tmp)
        try:
            if not args.reuse:
                if subtree_exists(root):
                    log("removing a bench subtree left by an earlier run")
                    remove(root, args.users, args.groups, workdir)
                results.update(load(root, args.users, args.groups, workdir))
            results.update(time_sync(root, args.users, args.groups, args.paged_size, workdir,
                                     args.bind))
        finally:
            if not args.keep:
                seconds = remove(root, args.users, args.groups, workdir)
                results["cleanup_s"] = round(seconds, 1)
                log(f"removed the bench subtree in {seconds:.1f} s")
        results["demo_org_still_served"] = demo_still_served()
    log(f"peak RSS {results['peak_rss_mb']} MB; demo organisation still served: "
        f"{results['demo_org_still_served']}; problems: {results['problems'] or 'none'}")
    if args.json:
        print(json.dumps(results))
    if results["problems"] or not results["demo_org_still_served"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
