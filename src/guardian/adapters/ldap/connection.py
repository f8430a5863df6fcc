"""Connections to an LDAP server through ldap3: TLS, a small pool of service binds, user binds.

Pooling: a few plain ``SYNC`` connections bound as the service account, each used by one thread
at a time and handed back afterwards; a connection that failed is dropped, and a read that failed
on a reused connection (closed by the server while idle) is tried once more on a fresh one. Why
not ldap3's own: ``RESTARTABLE`` retries 30 times two seconds apart (a minute in which a sign-in
or a sync hangs while the server is down), ``REUSABLE`` runs its own worker threads and hides
errors in them, and ``ServerPool`` sleeps ten seconds between rounds; here every failure comes
back within the configured timeout as :class:`~guardian.errors.DirectoryUnavailable`.

TLS: an ``ldaps://`` URL, or ``start_tls`` on ``ldap://``; certificates are always verified
(against ``ca_file`` if given, else the system store). Simple binds carry passwords, so plain
LDAP is refused to anything but a loopback address. Binds as a user always use a fresh
connection that is closed at once, never a pooled one.
"""

from __future__ import annotations

import contextlib
import math
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ldap3 import NONE, SIMPLE, SYNC, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPCommunicationError,
    LDAPException,
    LDAPInvalidCredentialsResult,
    LDAPStartTLSError,
)

from guardian.adapters.ldap.errors import unavailable
from guardian.config import is_loopback
from guardian.errors import ConfigurationError, DirectoryUnavailable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LdapConfig:
    """How to reach and bind to the directory. ``urls`` are tried in order (failover)."""

    urls: tuple[str, ...]
    bind_dn: str
    bind_password: str
    start_tls: bool = False
    ca_file: Path | None = None
    timeout_s: float = 5.0
    pool_size: int = 4
    read_only: bool = True
    """``False`` only for the write account (review remediation removes memberships)."""

    def __repr__(self) -> str:  # never show the password
        return (f"LdapConfig(urls={self.urls!r}, bind_dn={self.bind_dn!r}, "
                f"start_tls={self.start_tls})")


class LdapConnections:
    """Opens, pools and closes ldap3 connections; translates every ldap3 error."""

    def __init__(self, config: LdapConfig) -> None:
        if not config.urls:
            raise ConfigurationError("no LDAP URL configured")
        self.config = config
        self._servers = [_server(url, config) for url in config.urls]
        self._slots = threading.BoundedSemaphore(config.pool_size)
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def name(self) -> str:
        return ", ".join(self.config.urls)

    def run(self, operation: Callable[[Connection], T]) -> T:
        """``operation`` on a pooled service connection; once more on a fresh connection if a
        reused one turns out dead. ``DirectoryUnavailable`` for any LDAP failure."""
        for attempt in (1, 2):
            with self._service_connection() as (conn, reused):
                try:
                    return operation(conn)
                except LDAPCommunicationError as exc:
                    conn.broken = True
                    if not (reused and attempt == 1):
                        raise unavailable(exc, "reading the directory") from exc
                except LDAPException as exc:
                    conn.broken = True
                    raise unavailable(exc, "reading the directory") from exc
                except BaseException:
                    conn.broken = True  # e.g. a paged search left half-way: start afresh
                    raise
        raise DirectoryUnavailable("LDAP connection lost twice")  # pragma: no cover

    def check_password(self, dn: str, password: str) -> bool:
        """Bind as ``dn`` with ``password`` on a fresh connection: ``True`` on success,
        ``False`` for wrong credentials, ``DirectoryUnavailable`` for anything else."""
        if not password:
            return False  # an empty simple bind is an unauthenticated bind: it "succeeds"
        try:
            conn = self._open(dn, password)
        except LDAPInvalidCredentialsResult:
            return False
        except LDAPException as exc:
            raise unavailable(exc, "connecting as the user") from exc
        _unbind(conn)
        return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            _unbind(conn)

    @contextlib.contextmanager
    def _service_connection(self) -> Iterator[tuple[Connection, bool]]:
        if not self._slots.acquire(timeout=self.config.timeout_s):
            raise DirectoryUnavailable("every LDAP connection of the pool is busy")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            reused = conn is not None
            if conn is None:
                try:
                    conn = self._open(self.config.bind_dn, self.config.bind_password)
                except LDAPException as exc:
                    raise unavailable(exc, "connecting as the service account") from exc
                conn.broken = False
            try:
                yield conn, reused
            finally:
                self._give_back(conn)
        finally:
            self._slots.release()

    def _give_back(self, conn: Connection) -> None:
        with self._lock:
            if not getattr(conn, "broken", True) and not self._closed and not conn.closed:
                self._idle.append(conn)
                return
        _unbind(conn)

    def _open(self, dn: str, password: str) -> Connection:
        """A connection bound as ``dn``, on the first server that answers."""
        last: LDAPException | None = None
        for server in self._servers:
            conn = Connection(
                server, user=dn, password=password, authentication=SIMPLE,
                client_strategy=SYNC, read_only=self.config.read_only, raise_exceptions=True,
                # ldap3 packs this into SO_RCVTIMEO as whole seconds: an int, not a float.
                receive_timeout=max(1, math.ceil(self.config.timeout_s)), auto_referrals=False,
            )
            try:
                conn.open()
                if self.config.start_tls:
                    _start_tls(conn)
                conn.bind()
                return conn
            except LDAPInvalidCredentialsResult:
                _unbind(conn)
                raise
            except LDAPException as exc:
                _unbind(conn)
                last = exc
        assert last is not None
        raise last


def _server(url: str, config: LdapConfig) -> Server:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"ldap", "ldaps"} or not parts.hostname:
        raise ConfigurationError(f"LDAP URL {url!r}: expected ldap://host[:port] or ldaps://…")
    if parts.username or parts.password or parts.path not in {"", "/"} or parts.query:
        raise ConfigurationError(f"LDAP URL {url!r}: only scheme, host and port are allowed")
    if scheme == "ldaps" and config.start_tls:
        raise ConfigurationError("start_tls is for ldap:// URLs; ldaps:// is already TLS")
    encrypted = scheme == "ldaps" or config.start_tls
    if not encrypted and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"LDAP URL {url!r}: passwords would cross the network in clear; "
            "use ldaps:// or start_tls (plain ldap:// is accepted on loopback only)")
    tls = None
    if encrypted:
        if config.ca_file is not None and not config.ca_file.is_file():
            raise ConfigurationError(f"LDAP CA file {config.ca_file} does not exist")
        # version=None: ssl.create_default_context (TLS 1.2+); ldap3 then checks the host name.
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(config.ca_file)
                  if config.ca_file else None, sni=parts.hostname)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"LDAP URL {url!r}: {exc}") from exc
    return Server(parts.hostname, port=port or (636 if scheme == "ldaps" else 389),
                  use_ssl=scheme == "ldaps", tls=tls, get_info=NONE,
                  connect_timeout=config.timeout_s)


def _start_tls(conn: Connection) -> None:
    """StartTLS, every failure (refused by a server without TLS, a bad certificate) as one
    ``LDAPStartTLSError`` so that it is reported as what it is."""
    try:
        conn.start_tls(read_server_info=False)
    except LDAPStartTLSError:
        raise
    except LDAPException as exc:
        detail = getattr(exc, "description", None) or type(exc).__name__
        raise LDAPStartTLSError(f"startTLS failed - {detail}") from exc


def _unbind(conn: Any) -> None:
    with contextlib.suppress(LDAPException, OSError):
        conn.unbind()
