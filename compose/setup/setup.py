"""One-shot set-up of the compose stack: demo TLS certificates and the audit signing key.

Run by the ``setup`` service of ``compose/docker-compose.yml`` (Guardian's image, as root, so
it can hand each private key to the one user that reads it), before every other service. Safe
to run again: what exists is kept, so certificates and the signing key survive restarts.

Writes into ``CERTS_DIR`` (default ``/certs``, the ``certs`` volume):

- ``ca.pem`` (public) and ``ca-key.pem`` (root only): a private CA for this stack;
- ``opensearch.pem``/``-key.pem`` (OpenSearch's HTTP and transport layers, user 1000),
  ``admin.pem``/``-key.pem`` (the security plugin's admin client, for ``securityadmin.sh``),
  ``openldap.pem``/``-key.pem`` (slapd's LDAPS, user 1001);

and into ``KEYS_DIR`` (default ``/var/lib/guardian-keys``) the Ed25519 checkpoint key,
``audit-signing.pem``, made by ``guardian keys init`` and owned by Guardian's user (10001).

These are **demo** certificates: replace them (same file names) with your own PKI's for
anything but a trial. The subjects below must match ``compose/opensearch/opensearch.yml``
(``nodes_dn``, ``admin_dn``); ``tests/deploy/test_deploy_setup.py`` checks it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATION = "Guardian"
UNIT = "Guardian compose"
GUARDIAN_UID = 10001
OPENSEARCH_UID = 1000
OPENLDAP_UID = 1001


@dataclass(frozen=True)
class Leaf:
    """A certificate to issue: its file stem, common name, DNS names, key owner, usages."""

    stem: str
    common_name: str
    dns: tuple[str, ...]
    owner: int
    server: bool = True


LEAVES = (
    Leaf("opensearch", "opensearch", ("opensearch", "localhost"), OPENSEARCH_UID),
    Leaf("admin", "admin", (), OPENSEARCH_UID, server=False),
    Leaf("openldap", "openldap", ("openldap", "localhost"), OPENLDAP_UID),
)


def subject(common_name: str) -> x509.Name:
    """``CN=<name>,OU=Guardian compose,O=Guardian`` (RFC 4514 order, as OpenSearch reads it)."""
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, UNIT),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    # PKCS#8, unencrypted: the only private-key form the OpenSearch security plugin reads.
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int, owner: int | None) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    if owner is not None:
        os.chown(tmp, owner, owner)
    os.replace(tmp, path)


def _load_or_make_ca(certs: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key_file, cert_file = certs / "ca-key.pem", certs / "ca.pem"
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key, x509.load_pem_x509_certificate(cert_file.read_bytes())
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    name = subject("Guardian compose demo CA")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    _write(key_file, _key_pem(key), 0o600, 0 if _chown() else None)
    _write(cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644,
           0 if _chown() else None)
    return key, cert


def issue(leaf: Leaf, ca_key: rsa.RSAPrivateKey, ca: x509.Certificate
          ) -> tuple[bytes, bytes]:
    """A leaf certificate signed by the CA: (certificate PEM, PKCS#8 key PEM)."""
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    if leaf.server:
        usages.insert(0, ExtendedKeyUsageOID.SERVER_AUTH)
    builder = (x509.CertificateBuilder().subject_name(subject(leaf.common_name))
               .issuer_name(ca.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=825))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, content_commitment=False, key_encipherment=True,
                   data_encipherment=False, key_agreement=False, key_cert_sign=False,
                   crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if leaf.dns:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in leaf.dns]
        names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def make_certificates(certs: Path) -> list[str]:
    """Create the CA and every missing leaf; returns the file stems made now."""
    certs.mkdir(parents=True, exist_ok=True)
    os.chmod(certs, 0o755)  # noqa: S103 - each service user reads its own files in it
    ca_key, ca = _load_or_make_ca(certs)
    made = []
    for leaf in LEAVES:
        cert_file, key_file = certs / f"{leaf.stem}.pem", certs / f"{leaf.stem}-key.pem"
        if cert_file.exists() and key_file.exists():
            continue
        cert_pem, key_pem = issue(leaf, ca_key, ca)
        owner = leaf.owner if _chown() else None
        _write(key_file, key_pem, 0o600, owner)
        _write(cert_file, cert_pem, 0o644, owner)
        made.append(leaf.stem)
    return made


def make_signing_key(keys: Path) -> bool:
    """``guardian keys init`` into ``keys/audit-signing.pem`` unless it exists; True if made."""
    keys.mkdir(parents=True, exist_ok=True)
    target = keys / "audit-signing.pem"
    if target.exists():
        return False
    here = Path(sys.executable).parent / "guardian"
    command = str(here) if here.exists() else (shutil.which("guardian") or "guardian")
    # keys init only writes a file: it runs on the demo defaults (nothing else is read), in
    # an empty folder, with none of the deployment's settings.
    with tempfile.TemporaryDirectory() as scratch:
        env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": scratch,
               "GUARDIAN_DEMO": "true"}
        subprocess.run([command, "keys", "init", "--out", str(target)], check=True,  # noqa: S603
                       env=env, cwd=scratch, stdout=subprocess.DEVNULL)
    if _chown():
        os.chown(target, GUARDIAN_UID, GUARDIAN_UID)
        os.chown(keys, GUARDIAN_UID, GUARDIAN_UID)
    os.chmod(keys, 0o700)
    return True


def _chown() -> bool:
    """Hand keys to their users only when running as root (the container); not in tests."""
    return os.geteuid() == 0 and os.environ.get("SETUP_CHOWN", "1") != "0"


def main() -> int:
    certs = Path(os.environ.get("CERTS_DIR", "/certs"))
    keys = Path(os.environ.get("KEYS_DIR", "/var/lib/guardian-keys"))
    made = make_certificates(certs)
    print(f"certificates in {certs}: " + (f"made {', '.join(made)}" if made else "kept"))
    print(f"audit signing key in {keys}: " + ("made" if make_signing_key(keys) else "kept"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
