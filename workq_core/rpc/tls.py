"""TLS for the gRPC channel between services, from PEM files named by configuration.

Off by default: the gRPC port is meant for a private network. Set
``auth.grpc_tls_cert`` and ``auth.grpc_tls_key`` and the auth service
serves TLS only; set ``jobs.auth_grpc_tls_ca`` and the jobs service
verifies the auth service's certificate against that CA (a client that
trusts another CA is refused at the handshake). ``auth.grpc_tls_client_ca``
adds mutual TLS: then clients must present a certificate that CA signed
(``jobs.auth_grpc_tls_cert`` and ``jobs.auth_grpc_tls_key``).
"""

from __future__ import annotations

from pathlib import Path

import grpc

from workq_core.config.sections import AuthSettings, JobsSettings
from workq_core.errors import ConfigError


def server_credentials(auth: AuthSettings) -> grpc.ServerCredentials | None:
    """The auth gRPC server's TLS credentials, or None for plaintext."""
    if not auth.grpc_tls_cert and not auth.grpc_tls_key:
        if auth.grpc_tls_client_ca:
            raise ConfigError("auth.grpc_tls_client_ca needs auth.grpc_tls_cert and grpc_tls_key")
        return None
    pair = (
        _read(auth.grpc_tls_key, "auth.grpc_tls_key", PRIVATE_KEY),
        _read(auth.grpc_tls_cert, "auth.grpc_tls_cert"),
    )
    client_ca = auth.grpc_tls_client_ca
    return grpc.ssl_server_credentials(
        [pair],
        root_certificates=_read(client_ca, "auth.grpc_tls_client_ca") if client_ca else None,
        require_client_auth=bool(client_ca),
    )


def channel_credentials(jobs: JobsSettings) -> grpc.ChannelCredentials | None:
    """The jobs service's credentials for the channel to the auth service, or None."""
    if not jobs.auth_grpc_tls_ca:
        if jobs.auth_grpc_tls_cert or jobs.auth_grpc_tls_key:
            raise ConfigError("jobs.auth_grpc_tls_cert needs jobs.auth_grpc_tls_ca")
        return None
    key = cert = None
    if jobs.auth_grpc_tls_cert or jobs.auth_grpc_tls_key:
        key = _read(jobs.auth_grpc_tls_key, "jobs.auth_grpc_tls_key", PRIVATE_KEY)
        cert = _read(jobs.auth_grpc_tls_cert, "jobs.auth_grpc_tls_cert")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(jobs.auth_grpc_tls_ca, "jobs.auth_grpc_tls_ca"),
        private_key=key,
        certificate_chain=cert,
    )


CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
PRIVATE_KEY = b"PRIVATE KEY-----"


def _read(path: str, setting: str, marker: bytes = CERTIFICATE) -> bytes:
    """The PEM file's bytes; ConfigError names the setting when it is unset, unreadable or
    holds no ``marker`` (a certificate, or a private key): gRPC itself would only say that
    it could not bind the port."""
    if not path:
        raise ConfigError(f"{setting}: a PEM file is needed (the other TLS settings are set)")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path} ({exc.strerror})") from None
    if marker not in data:
        what = "certificate" if marker == CERTIFICATE else "private key"
        raise ConfigError(f"{setting}: {path} is not a PEM file of a {what}")
    return data
