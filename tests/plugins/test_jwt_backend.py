"""The jwt auth backend: claims, algorithms, expiry and where its secret comes from."""

from __future__ import annotations

import os
import stat
import time

import jwt as pyjwt
import pytest

from workq_core import AuthError, ConfigError
from workq_core.runtime import bootstrap

SECRET = "k" * 40


def backend(**env: str):
    runtime = bootstrap(env={"WORKQ_CORE_DISABLE_PLUGINS": "sql,pulsar", **env})
    return runtime.auth_backend()


def claims(**overrides):
    now = int(time.time())
    base = {"sub": "7", "iat": now, "exp": now + 60, "iss": "workq-auth", "aud": "workq", "ver": 2}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_issued_tokens_verify_with_user_and_version():
    b = backend(JWT_SECRET=SECRET, JWT_EXPIRATION_MS="120000")

    issued = b.issue(7, 3)

    assert issued.expires_in_s == 120
    verified = b.verify(issued.token)
    assert (verified.user_id, verified.token_version) == (7, 3)
    header = pyjwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"
    assert set(pyjwt.decode(issued.token, options={"verify_signature": False})) >= {
        "sub",
        "iat",
        "exp",
        "iss",
        "aud",
    }


@pytest.mark.parametrize("missing", ["sub", "iat", "exp", "iss", "aud"])
def test_each_required_claim_is_required(missing):
    token = pyjwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256")

    with pytest.raises(AuthError):
        backend(JWT_SECRET=SECRET).verify(token)


@pytest.mark.parametrize(
    "bad",
    [{"iss": "someone-else"}, {"aud": "other"}, {"exp": int(time.time()) - 120}, {"sub": "x"}],
    ids=["issuer", "audience", "expired", "sub"],
)
def test_wrong_claims_are_rejected(bad):
    token = pyjwt.encode(claims(**bad), SECRET, algorithm="HS256")

    with pytest.raises(AuthError):
        backend(JWT_SECRET=SECRET).verify(token)


def test_small_leeway_accepts_slightly_expired_tokens():
    token = pyjwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")

    assert backend(JWT_SECRET=SECRET).verify(token).user_id == 7


def test_alg_none_is_rejected():
    token = pyjwt.encode(claims(), None, algorithm="none")

    with pytest.raises(AuthError):
        backend(JWT_SECRET=SECRET).verify(token)


def test_other_algorithms_are_rejected_even_with_the_right_key():
    token = pyjwt.encode(claims(), SECRET, algorithm="HS512")

    with pytest.raises(AuthError):
        backend(JWT_SECRET=SECRET).verify(token)


def test_wrong_signature_and_garbage_are_rejected():
    b = backend(JWT_SECRET=SECRET)
    forged = pyjwt.encode(claims(), "f" * 40, algorithm="HS256")

    for token in (forged, "garbage", "a.b.c", ""):
        with pytest.raises(AuthError):
            b.verify(token)


def test_missing_secret_outside_local_mode_refuses_to_start():
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        backend()


def test_short_secret_refuses_to_start_naming_the_key():
    with pytest.raises(ConfigError, match=r"jwt\.secret"):
        backend(JWT_SECRET="s" * 31)


def test_local_mode_creates_a_private_secret_file_once_and_reuses_it(tmp_path):
    env = {"WORKQ_CORE_LOCAL": "true", "WORKQ_CORE_DATA_DIR": str(tmp_path)}

    token = backend(**env).issue(1, 0).token
    path = tmp_path / "jwt_secret"

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_bytes()) >= 48
    assert backend(**env).verify(token).user_id == 1  # a second process agrees
