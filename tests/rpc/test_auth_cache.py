"""AuthCache: only the auth service's acceptances are remembered, each for at most ttl_s."""

from __future__ import annotations

import pytest

from workq_core import AuthError, Unavailable
from workq_core.rpc.cache import AuthCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Authority:
    """Stands in for the auth service's answers (this tests the cache's logic only)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.answer: object = "alice"

    def __call__(self, token: str) -> str:
        self.calls.append(token)
        if isinstance(self.answer, Exception):
            raise self.answer
        return str(self.answer)


def test_an_accepted_token_is_answered_from_the_cache_until_ttl_then_asked_again():
    clock, authority = FakeClock(), Authority()
    cache = AuthCache(authority, 5.0, clock=clock)
    assert cache("t") == "alice"
    clock.now += 4.99
    assert cache("t") == "alice"
    assert authority.calls == ["t"]
    # the authority changed its mind (logout): the cache holds on for no longer than ttl
    authority.answer = AuthError("Invalid token.")
    clock.now += 0.02
    with pytest.raises(AuthError):
        cache("t")
    assert authority.calls == ["t", "t"]


@pytest.mark.parametrize("refusal", [AuthError("Invalid token."), Unavailable("auth down")])
def test_refusals_and_failures_are_never_remembered(refusal):
    clock, authority = FakeClock(), Authority()
    cache = AuthCache(authority, 5.0, clock=clock)
    authority.answer = refusal
    for _ in range(2):
        with pytest.raises(type(refusal)):
            cache("t")
    assert len(authority.calls) == 2
    authority.answer = "alice"
    assert cache("t") == "alice"


def test_ttl_zero_asks_every_time():
    authority = Authority()
    cache = AuthCache(authority, 0)
    cache("t")
    cache("t")
    assert authority.calls == ["t", "t"]


def test_the_least_recently_used_token_is_evicted_past_max_entries():
    clock, authority = FakeClock(), Authority()
    cache = AuthCache(authority, 60.0, max_entries=2, clock=clock)
    cache("a"), cache("b"), cache("a"), cache("c")  # b is the least recently used
    authority.calls.clear()
    cache("a"), cache("c"), cache("b")
    assert authority.calls == ["b"]
