"""``workq.Client`` reading quotas, and an admin setting a user's own, on a real stack."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

import workq
from tests.client.conftest import PASSWORD, Running, make_admin

CONFIGURED = {"items_per_minute": 1_000_000, "items_waiting": 10_000_000}  # the defaults
LATER = 600_000  # ms: items held back this long stay waiting (the executor leaves them)


@pytest.fixture
def other(running: Running) -> Iterator[tuple[str, workq.Client]]:
    """A second user, logged in: the one an admin looks at."""
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    with workq.Client(running.jobs_url, running.auth_url) as logged_in:
        logged_in.create_user(address, PASSWORD)
        logged_in.login(address, PASSWORD)
        yield address, logged_in


def test_an_admin_sets_a_users_quota_that_refuses_their_next_submission(
    running: Running, email: str, client: workq.Client, other: tuple[str, workq.Client]
) -> None:
    # Given a user on the configured quotas, who has submitted nothing
    alice, as_alice = other
    mine = as_alice.my_quota()
    assert (mine.items_per_minute, mine.items_waiting) == tuple(CONFIGURED.values())
    assert (mine.items_per_minute_source, mine.items_waiting_source) == ("CONFIGURED",) * 2
    assert (mine.used_this_minute, mine.waiting) == (0, 0)

    # When an admin gives her quotas of her own (naming her by email, in any case)
    make_admin(running, email)
    given = client.set_user_quota(alice.upper(), items_per_minute=50, items_waiting=2)
    assert given.user_id == mine.user_id
    assert (given.items_per_minute, given.items_waiting) == (50, 2)
    assert (given.items_per_minute_source, given.items_waiting_source) == ("USER", "USER")

    # Then two items fit, and the third is refused with the quota and her limit
    as_alice.submit("Fibonacci", [{"iterations": 1}] * 2, delay_ms=LATER)
    with pytest.raises(workq.QuotaExceeded) as refused:
        as_alice.submit("Fibonacci", {"iterations": 1}, delay_ms=LATER)
    assert (refused.value.quota, refused.value.limit) == ("itemsWaiting", 2)
    seen, hers = client.user_quota(alice), as_alice.my_quota()
    assert (seen.user_id, seen.items_waiting, seen.waiting) == (hers.user_id, 2, 2)
    assert hers.waiting == 2

    # And None gives her the configured waiting quota back; the per-minute one is kept
    cleared = client.set_user_quota(alice, items_waiting=None)
    assert (cleared.items_waiting, cleared.items_waiting_source) == (10_000_000, "CONFIGURED")
    assert (cleared.items_per_minute, cleared.items_per_minute_source) == (50, "USER")


def test_only_an_admin_reads_or_sets_other_users_quotas(
    client: workq.Client, other: tuple[str, workq.Client]
) -> None:
    alice, as_alice = other
    with pytest.raises(workq.Forbidden, match="Only an admin may change quotas"):
        client.set_user_quota(alice, items_waiting=0)
    with pytest.raises(workq.Forbidden, match="Only an admin may read other users' quotas"):
        client.user_quota(alice)
    # an email that names nobody is Forbidden too: a non-admin cannot probe for accounts
    with pytest.raises(workq.Forbidden):
        client.user_quota("nobody-at-all@example.com")
    assert as_alice.my_quota().items_waiting_source == "CONFIGURED"


def test_an_unknown_email_and_bad_values_are_bad_input_naming_the_field(
    running: Running, email: str, client: workq.Client, other: tuple[str, workq.Client]
) -> None:
    make_admin(running, email)
    alice, as_alice = other
    for ask in (
        lambda: client.user_quota("nobody-at-all@example.com"),
        lambda: client.set_user_quota("nobody-at-all@example.com", items_waiting=5),
    ):
        with pytest.raises(workq.BadInput, match="No user has the email") as unknown:
            ask()
        assert unknown.value.field == "email"
    with pytest.raises(workq.BadInput) as negative:
        client.set_user_quota(alice, items_per_minute=-1)
    assert negative.value.field == "items_per_minute"
    with pytest.raises(TypeError, match="unknown quota 'items_per_second'"):
        client.set_user_quota(alice, items_per_second=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="items_waiting must be an int"):
        client.set_user_quota(alice, items_waiting="5")  # type: ignore[typeddict-item]
    assert as_alice.my_quota().items_per_minute_source == "CONFIGURED"  # nothing changed


def test_the_async_client_has_the_same_quota_methods(
    running: Running, email: str, other: tuple[str, workq.Client]
) -> None:
    alice, _ = other
    make_admin(running, email)

    async def main() -> tuple[workq.Quota, workq.Quota, workq.Quota]:
        async with workq.AsyncClient(running.jobs_url, running.auth_url) as admin:
            await admin.login(email, PASSWORD)
            mine = await admin.my_quota()
            given = await admin.set_user_quota(alice, items_per_minute=0)
            return mine, given, await admin.user_quota(alice)

    mine, given, seen = asyncio.run(main())

    assert mine.items_per_minute == CONFIGURED["items_per_minute"]
    assert (given.items_per_minute, given.items_per_minute_source) == (0, "USER")  # unlimited
    assert seen == given
