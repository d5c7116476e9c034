"""The Fibonacci job and the memory dedup store behave as documented."""

from __future__ import annotations

import decimal

import pytest

from workq_core import JobContext
from workq_fibonacci import FibonacciJob
from workq_memory_dedup import MemoryDedupStore

CTX = JobContext(job_id="j", item_index=0, attempt=1, idempotency_key="k")


@pytest.mark.parametrize(
    ("n", "value"), [(0, "0"), (1, "1"), (2, "1"), (10, "55"), (93, "12200160415121876738")]
)
def test_fibonacci_values_are_exact_strings(n, value):
    assert FibonacciJob().run({"iterations": n}, CTX) == {"value": value}


def test_fibonacci_outgrows_64_bits_without_losing_digits():
    value = FibonacciJob().run({"iterations": 1000}, CTX)["value"]
    assert len(value) == 209 and value.startswith(
        "434665576869374564356885276750406258025646605173717804024817290895365554179490518904038798400792551692959225930803226347752096896232398733224711616429964409065331879382989696499285160037044761377951668492288"
    )


def fib_by_doubling(n: int) -> int:
    """F(n) by fast doubling: another algorithm than the job's loop, to check it against."""
    if n == 0:
        return 0
    a, b = 0, 1  # F(k), F(k+1)
    for bit in bin(n)[2:]:
        a, b = a * (2 * b - a), a * a + b * b
        if bit == "1":
            a, b = b, a + b
    return a


@pytest.mark.parametrize("n", [20_000, 20_600, 50_000, 99_999, 100_000])
def test_fibonacci_is_exact_across_its_whole_declared_range(n):
    # Given iterations up to the schema's maximum, past the 4,300 digits that
    # Python's str(int) refuses by default (F(20,600) has 4,306)
    maximum = FibonacciJob.input_schema["properties"]["iterations"]["maximum"]
    assert n <= maximum
    # When the job runs
    value = FibonacciJob().run({"iterations": n}, CTX)["value"]
    # Then every digit is right (compared as a Decimal: int(str) has the same limit)
    assert value.isdigit()
    assert int(decimal.Decimal(value)) == fib_by_doubling(n)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_memory_store_remembers_until_ttl():
    clock = FakeClock()
    store = MemoryDedupStore(clock=clock)
    store.mark("a", ttl_s=10)
    assert store.seen("a") and not store.seen("b")
    clock.now += 10.5
    assert not store.seen("a")


def test_memory_store_is_bounded_and_evicts_oldest():
    store = MemoryDedupStore(max_keys=3)
    for key in "abcd":
        store.mark(key, ttl_s=60)
    assert len(store) == 3
    assert not store.seen("a")
    assert all(store.seen(k) for k in "bcd")


def test_memory_store_drops_expired_keys_without_being_asked():
    clock = FakeClock()
    store = MemoryDedupStore(clock=clock)
    for key in "abc":
        store.mark(key, ttl_s=1)
    clock.now += 2
    store.mark("d", ttl_s=1)
    assert len(store) == 1


def test_memory_store_refuses_a_useless_bound():
    with pytest.raises(ValueError, match="max_keys"):
        MemoryDedupStore(max_keys=0)
