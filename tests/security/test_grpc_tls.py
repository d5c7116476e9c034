"""TLS on the gRPC channel between services, with certificates from a throwaway CA.

The jobs service authenticates users through a TLS-only auth service; a
client that trusts another CA, or speaks plaintext, is refused; with mutual
TLS a client without a certificate of the required CA is refused too.
"""

from __future__ import annotations

import pytest

from tests.auth.conftest import auth_env
from tests.jobs_service.conftest import execute, submit
from tests.support.tls import issue, make_ca
from workq_core.auth import start_auth_service
from workq_core.config.sections import JobsSettings
from workq_core.errors import ConfigError, Unavailable
from workq_core.rpc.client import AuthClient
from workq_core.rpc.tls import channel_credentials
from workq_core.runtime import bootstrap

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA with a server and a client certificate, and an unrelated CA."""
    directory = tmp_path_factory.mktemp("pki")
    ca = make_ca(directory, "workq")
    return {
        "ca": ca,
        "server": issue(ca, directory, "auth-server", server=True),
        "client": issue(ca, directory, "jobs-client", server=False),
        "wrong_ca": make_ca(directory, "other"),
    }


def _serving_tls(pki, *, mutual: bool = False) -> dict[str, str]:
    env = {
        "WORKQ_AUTH_GRPC_TLS_CERT": str(pki["server"].cert),
        "WORKQ_AUTH_GRPC_TLS_KEY": str(pki["server"].key),
    }
    if mutual:
        env["WORKQ_AUTH_GRPC_TLS_CLIENT_CA"] = str(pki["ca"].cert)
    return env


def _client(stack, pki, *, ca: str = "ca", with_cert: bool = False) -> AuthClient:
    settings = {"auth_grpc_tls_ca": str(pki[ca].cert)}
    if with_cert:
        settings |= {
            "auth_grpc_tls_cert": str(pki["client"].cert),
            "auth_grpc_tls_key": str(pki["client"].key),
        }
    credentials = channel_credentials(JobsSettings(**settings))
    return AuthClient(f"127.0.0.1:{stack.auth.grpc_port}", 2, credentials=credentials)


def _token(user) -> str:
    return user.cookies["Authentication"]


def test_the_jobs_service_authenticates_through_a_tls_auth_service(make_stack, pki):
    # Given an auth service serving gRPC over TLS only, and a jobs service trusting its CA
    stack = make_stack(**_serving_tls(pki), WORKQ_JOBS_AUTH_GRPC_TLS_CA=str(pki["ca"].cert))
    user = stack.user()

    # Then a user's token is checked over TLS: the submission is accepted
    job_id = submit(user, "Fibonacci", {"iterations": 3})
    assert stack.sql("SELECT id FROM jobs") == [{"id": job_id}]
    # and a plaintext client gets no answer from the TLS port
    plaintext = AuthClient(f"127.0.0.1:{stack.auth.grpc_port}", 2)
    with plaintext, pytest.raises(Unavailable):
        plaintext.authenticate(_token(user))


def test_a_client_trusting_another_ca_is_refused(make_stack, pki):
    # Given a jobs service that trusts another CA than the one that signed the auth service
    stack = make_stack(**_serving_tls(pki), WORKQ_JOBS_AUTH_GRPC_TLS_CA=str(pki["wrong_ca"].cert))
    user = stack.user()

    # Then every token check fails at the handshake: UNAVAILABLE, and nothing is stored
    refused = execute(user, "Fibonacci", {"iterations": 3}).json["errors"][0]
    assert refused["extensions"]["code"] == "UNAVAILABLE"
    assert stack.count("jobs") == 0
    with _client(stack, pki, ca="wrong_ca") as wrong, pytest.raises(Unavailable):
        wrong.authenticate(_token(user))
    with _client(stack, pki) as right:
        assert right.authenticate(_token(user)).email.endswith("@example.com")


def test_mutual_tls_refuses_a_client_without_a_certificate(make_stack, pki):
    # Given an auth service asking clients for a certificate of its CA
    stack = make_stack(
        **_serving_tls(pki, mutual=True),
        WORKQ_JOBS_AUTH_GRPC_TLS_CA=str(pki["ca"].cert),
        WORKQ_JOBS_AUTH_GRPC_TLS_CERT=str(pki["client"].cert),
        WORKQ_JOBS_AUTH_GRPC_TLS_KEY=str(pki["client"].key),
    )
    user = stack.user()

    # Then the jobs service, which presents one, is served; a client without one is not
    submit(user, "Fibonacci", {"iterations": 3})
    with _client(stack, pki) as anonymous, pytest.raises(Unavailable):
        anonymous.authenticate(_token(user))
    with _client(stack, pki, with_cert=True) as presenting:
        assert presenting.authenticate(_token(user)).id > 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (lambda pki: {"CERT": pki["server"].cert}, "auth.grpc_tls_key: a PEM file is needed"),
        (
            lambda pki: {"CERT": "/nonexistent/c.pem", "KEY": pki["server"].key},
            "auth.grpc_tls_cert: cannot read /nonexistent/c.pem",
        ),
        (
            lambda pki: {"CERT": pki["server"].csr, "KEY": pki["server"].key},
            "auth.grpc_tls_cert: .* is not a PEM file of a certificate",
        ),
        (
            lambda pki: {"CERT": pki["server"].cert, "KEY": pki["server"].cert},
            "auth.grpc_tls_key: .* is not a PEM file of a private key",
        ),
        (lambda pki: {"CLIENT_CA": pki["ca"].cert}, "auth.grpc_tls_client_ca needs"),
    ],
)
def test_bad_tls_settings_stop_start_up_naming_the_setting(
    database_url, tmp_path, pki, settings, message
):
    env = {f"WORKQ_AUTH_GRPC_TLS_{k}": str(v) for k, v in settings(pki).items()}
    runtime = bootstrap(env=auth_env(database_url, tmp_path, **env))

    with pytest.raises(ConfigError, match=message):
        start_auth_service(runtime, port=0, grpc_port=0)


def test_the_certificate_must_carry_the_expected_server_name(make_stack, pki):
    # Given a server certificate for 127.0.0.1 and localhost
    stack = make_stack(**_serving_tls(pki))
    user = stack.user()
    credentials = channel_credentials(JobsSettings(auth_grpc_tls_ca=str(pki["ca"].cert)))
    target = f"127.0.0.1:{stack.auth.grpc_port}"

    # Then a client expecting another name is refused, one expecting a name it carries is not
    other = AuthClient(target, 2, credentials=credentials, server_name="auth.example.org")
    with other, pytest.raises(Unavailable):
        other.authenticate(_token(user))
    with AuthClient(target, 2, credentials=credentials, server_name="localhost") as named:
        assert named.authenticate(_token(user)).id > 0
