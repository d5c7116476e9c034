"""Throwaway certificates for TLS tests, made with the openssl command line.

A CA, and certificates it signs for 127.0.0.1/localhost (server) or a named
client; all files PEM, in a directory the test owns.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Issued:
    """A certificate and its key."""

    cert: Path
    key: Path
    csr: Path | None = None  # not PEM of a certificate: for tests of bad files


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> Issued:
    """A self-signed CA called ``name``."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / f"{name}-ca.pem", directory / f"{name}-ca.key"
    _openssl(
        "req", "-x509", *_EC, "-keyout", key, "-out", cert, "-days", "2",
        "-subj", f"/CN={name} test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return Issued(cert, key)


def issue(ca: Issued, directory: Path, name: str, *, server: bool) -> Issued:
    """A certificate signed by ``ca``: for 127.0.0.1 and localhost, or a client called ``name``."""
    cert, key, csr = (directory / f"{name}.{ext}" for ext in ("pem", "key", "csr"))
    extensions = directory / f"{name}.ext"
    usage = "serverAuth" if server else "clientAuth"
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else ""
    extensions.write_text(f"{san}extendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n")
    _openssl("req", *_EC, "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", extensions,
    )  # fmt: skip
    return Issued(cert, key, csr)
