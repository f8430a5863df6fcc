"""The directory adapters, built from the directory and LDAP settings groups.

The YAML directory, or (``GUARDIAN_DIRECTORY=ldap``) LDAP served from a snapshot that is loaded
from the data folder now and synced later; nothing here connects.
"""

from __future__ import annotations

from dataclasses import dataclass

from guardian.adapters.files.directory import DirectoryFileWatcher, FileDirectory
from guardian.adapters.files.policy import load_policy
from guardian.adapters.files.snapshot import FileSnapshotStore
from guardian.adapters.ldap.connection import LdapConfig, LdapConnections
from guardian.adapters.ldap.directory import LdapAttributes, LdapDirectory, LdapLayout
from guardian.adapters.memory.ports import NoSeeds
from guardian.clock import SystemClock
from guardian.config import Settings
from guardian.config_groups import LdapSettings
from guardian.errors import ConfigurationError
from guardian.identity.directory_sync import SyncedDirectory
from guardian.identity.sealing import KeyPurpose, Sealer, derive_key
from guardian.policy.pipeline import CompiledPolicy
from guardian.ports import Clock, Directory, MembershipWriter, MfaSecrets, PasswordVerifier


@dataclass
class People:
    """The directory and the credentials behind sign-in, as the settings choose them."""

    directory: Directory
    passwords: PasswordVerifier
    secrets: MfaSecrets
    synced: SyncedDirectory | None = None
    source: LdapDirectory | None = None
    watcher: DirectoryFileWatcher | None = None
    """Reloads the directory file when it changes (file directory only)."""


def seed_sealer(settings: Settings) -> Sealer:
    """Seals and opens TOTP seeds, in the store and in the demo directory file alike."""
    return Sealer(derive_key(settings.secret_key.get_secret_value(), KeyPurpose.TOTP_SEEDS))


def build_directory(settings: Settings, policy: CompiledPolicy, clock: Clock) -> People:
    """The directory the settings choose (the file, or LDAP behind its persisted snapshot)."""
    people, sealer = settings.people, seed_sealer(settings)
    if people.kind != "ldap":
        file_directory = FileDirectory(people.file, sealer)
        watcher = DirectoryFileWatcher(file_directory, people.reload_interval_s)
        return People(file_directory, file_directory, file_directory, watcher=watcher)
    source = build_ldap_source(settings.ldap, policy.definition.roles)
    snapshots = FileSnapshotStore(people.snapshot_file, derive_key(
        settings.secret_key.get_secret_value(), KeyPurpose.DIRECTORY_SNAPSHOT))
    synced = SyncedDirectory(source, clock, snapshots, max_age_s=people.max_age_s)
    # TOTP seeds come from the store (``guardian mfa enroll``; the Mfa wiring layers it on
    # top); beneath it, the demo organisation's sealed seeds in demo mode only, so that a real
    # directory's "alice" never inherits the demo's public seed.
    seeds: MfaSecrets = (FileDirectory(people.file, sealer)
                         if people.demo and people.file.is_file() else NoSeeds())
    return People(synced, source, seeds, synced, source)


def build_synced_directory(settings: Settings, *, clock: Clock | None = None) -> SyncedDirectory:
    """The LDAP directory with its persisted snapshot, for ``guardian directory sync``."""
    if settings.people.kind != "ldap":
        raise ConfigurationError(
            "the directory is the YAML file (GUARDIAN_DIRECTORY=file): there is nothing to sync; "
            "set GUARDIAN_DIRECTORY=ldap and the GUARDIAN_LDAP_* settings")
    policy = CompiledPolicy.of(load_policy(settings.policy_dir))
    synced = build_directory(settings, policy, clock or SystemClock()).synced
    assert synced is not None
    return synced


def build_ldap_source(ldap: LdapSettings, roles: frozenset[str]) -> LdapDirectory:
    """The LDAP source of the synced directory (its read account), connecting when used."""
    assert ldap.base_dn is not None and ldap.bind_dn is not None
    assert ldap.bind_password is not None
    connections = LdapConnections(LdapConfig(
        urls=ldap.urls, bind_dn=ldap.bind_dn, bind_password=ldap.bind_password,
        start_tls=ldap.start_tls, ca_file=ldap.ca_file, timeout_s=ldap.timeout_s,
        pool_size=ldap.pool_size,
    ))
    return LdapDirectory(connections, ldap_layout(ldap, roles))


def ldap_layout(ldap: LdapSettings, roles: frozenset[str]) -> LdapLayout:
    base = ldap.base_dn
    return LdapLayout(
        users_dn=ldap.users_dn or f"ou=people,{base}",
        groups_dn=ldap.groups_dn or f"ou=groups,{base}",
        roles=roles, group_roles=ldap.group_roles,
        attributes=LdapAttributes.of(ldap.attributes),
        paged_size=ldap.paged_size,
    )


def build_membership_writer(ldap: LdapSettings, roles: frozenset[str]
                            ) -> MembershipWriter | None:
    """The LDAP write account's remover of revoked memberships, when configured."""
    if ldap.write_bind_dn is None or ldap.write_password is None:
        return None
    from guardian.adapters.ldap.membership import LdapMembershipWriter

    write = LdapConnections(LdapConfig(
        urls=ldap.urls, bind_dn=ldap.write_bind_dn, bind_password=ldap.write_password,
        start_tls=ldap.start_tls, ca_file=ldap.ca_file, timeout_s=ldap.timeout_s,
        pool_size=1, read_only=False))
    return LdapMembershipWriter(write, ldap_layout(ldap, roles))

