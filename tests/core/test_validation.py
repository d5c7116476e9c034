"""Items are checked against the job type's schema; errors name the item and field."""

from __future__ import annotations

import pytest

from workq_core import InvalidPayload
from workq_core.validation import validate_items
from workq_fibonacci import FibonacciJob

JOB = FibonacciJob()


def test_valid_items_pass():
    validate_items(JOB, [{"iterations": 0}, {"iterations": 10}, {"iterations": 100_000}])


@pytest.mark.parametrize(
    ("items", "index", "field", "text"),
    [
        ([{"iterations": 1}, {"iterations": "ten"}], 1, "iterations", "is not of type 'integer'"),
        ([{"iterations": -1}], 0, "iterations", "less than the minimum"),
        ([{"iterations": 100_001}], 0, "iterations", "greater than the maximum"),
        ([{}], 0, "iterations", "'iterations' is a required property"),
        ([{"iterations": 1, "extra": 2}], 0, "extra", "Additional properties"),
        ([{"iterations": 1}, {"iterations": 2}, {"iterations": 2.5}], 2, "iterations", "integer"),
        ([{"iterations": True}], 0, "iterations", "integer"),
    ],
)
def test_errors_name_the_item_and_field(items, index, field, text):
    with pytest.raises(InvalidPayload) as info:
        validate_items(JOB, items)
    assert info.value.item == index
    assert info.value.field == field
    assert f"item {index} of Fibonacci: field {field!r}" in str(info.value)
    assert text in str(info.value)


@pytest.mark.parametrize(
    ("item", "kind"), [([1], "an array"), ("x", "a string"), (None, "null"), (3, "a number")]
)
def test_an_item_that_is_not_an_object_is_named(item, kind):
    with pytest.raises(
        InvalidPayload, match=f"item 0 of Fibonacci: expected a JSON object, got {kind}"
    ):
        validate_items(JOB, [item])
