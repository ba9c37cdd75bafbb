"""A self-signed certificate for `voicecoach serve --https`, kept so a phone that trusts it once keeps trusting it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from voicecoach.errors import VoicecoachError
from voicecoach.files import private_dir

DAYS = 397                  # the longest any phone accepts for a server certificate
RENEW_DAYS = 7              # make a new one when the old one has less left than this
CERT, KEY = "certificate.pem", "key.pem"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    fingerprint: str        # SHA-256, as phones show it: AB:CD:...

    def der(self) -> bytes:
        """The certificate in the DER form phones install."""
        return x509.load_pem_x509_certificate(self.cert.read_bytes()).public_bytes(serialization.Encoding.DER)


def _fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def _names(hosts) -> list:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _usable(path: Path, hosts, now: dt.datetime) -> x509.Certificate | None:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        covered = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    if not all(name in covered for name in _names(hosts)):
        return None
    if cert.not_valid_after_utc - now < dt.timedelta(days=RENEW_DAYS):
        return None
    return cert


def _write(path: Path, data: bytes, mode: int) -> None:
    # Written beside and renamed, with its final mode from the start: the key is never readable by others.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def certificate(folder: Path, hosts) -> Certificate:
    """The certificate in `folder` if it covers `hosts` and is not about to expire, else a new one."""
    folder = Path(folder)
    hosts = list(dict.fromkeys(["localhost", "127.0.0.1", *hosts]))
    now = dt.datetime.now(dt.timezone.utc)
    cert = _usable(folder / CERT, hosts, now)
    if cert is not None and (folder / KEY).is_file():
        return Certificate(folder / CERT, folder / KEY, _fingerprint(cert))
    try:
        private_dir(folder)       # mkdir(parents=True, mode=) would leave the parents it makes open
    except OSError as e:
        raise VoicecoachError(f"{folder}: cannot keep the certificate here ({e.strerror or e})") from None
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voicecoach on this computer")])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=DAYS))
            .add_extension(x509.SubjectAlternativeName(_names(hosts)), critical=False)
            # A CA flag lets a phone install it as a trusted certificate; path length 0: it signs nothing else.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    try:
        _write(folder / KEY, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()), 0o600)
        _write(folder / CERT, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    except OSError as e:
        raise VoicecoachError(f"{folder}: cannot keep the certificate here ({e.strerror or e})") from None
    return Certificate(folder / CERT, folder / KEY, _fingerprint(cert))
