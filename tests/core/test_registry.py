"""Registries validate names, reject duplicates naming both plugins, and list what exists."""

from __future__ import annotations

import pytest

from workq_core import (
    DuplicateName,
    JobTypeNotFound,
    JobTypeRegistry,
    PluginError,
    Registry,
    UnknownName,
)
from workq_core.registry import timeout_of


def test_records_the_providing_plugin():
    registry: Registry[int] = Registry("job type")
    registry.providing("alpha").add("One", 1)
    registry.providing("beta").add("Two", 2)

    assert [(e.name, e.value, e.plugin) for e in registry.entries()] == [
        ("One", 1, "alpha"),
        ("Two", 2, "beta"),
    ]


def test_duplicate_names_both_plugins():
    registry: Registry[int] = Registry("dedup store")
    registry.providing("alpha").add("shared", 1)

    with pytest.raises(DuplicateName) as info:
        registry.providing("beta").add("shared", 2)

    assert "'alpha'" in str(info.value) and "'beta'" in str(info.value)
    assert registry.get("shared") == 1


@pytest.mark.parametrize("name", ["", "1abc", "has space", "x" * 65, None, "semi;colon"])
def test_invalid_names_are_refused_with_the_plugin_named(name):
    registry: Registry[int] = Registry("transport")
    with pytest.raises(PluginError, match="plugin 'gamma' registered an invalid transport name"):
        registry.providing("gamma").add(name, 1)


def test_unknown_name_lists_installed_names():
    registry: Registry[int] = Registry("transport")
    registry.providing("p").add("pulsar", 1)
    registry.providing("q").add("memory", 2)

    with pytest.raises(UnknownName, match="'kafka'; installed: memory, pulsar"):
        registry.get("kafka")


def test_unknown_name_in_empty_registry_says_none():
    with pytest.raises(UnknownName, match="installed: none"):
        Registry("auth backend").get("jwt")


class Job:
    def __init__(self, name: str) -> None:
        self.name = name
        self.description = "a job"
        self.input_schema = {"type": "object"}
        self.retry = None

    def run(self, data, ctx):
        return None


def test_a_job_type_is_keyed_on_its_own_name():
    # The key cannot differ from job.name: add takes the job alone
    registry = JobTypeRegistry()
    registry.providing("p").add(Job("Report"))
    assert registry.names() == ["Report"]
    assert registry.get("Report").name == "Report"


def test_an_unknown_job_type_is_job_type_not_found_listing_the_installed_ones():
    registry = JobTypeRegistry()
    registry.providing("p").add(Job("Report"))
    registry.providing("p").add(Job("Echo"))
    with pytest.raises(
        JobTypeNotFound, match=r"Unknown job type 'Nope'; available: Echo, Report\."
    ):
        registry.get("Nope")


def test_a_job_type_with_a_bad_retry_or_a_bad_name_is_refused_naming_the_plugin():
    registry = JobTypeRegistry()
    job = Job("Report")
    job.retry = {"max_attempts": 3}
    with pytest.raises(PluginError, match=r"job type 'Report' has retry .*RetryPolicy or None"):
        registry.providing("p").add(job)
    with pytest.raises(PluginError, match="plugin 'p' registered an invalid job type name"):
        registry.providing("p").add(Job("has space"))


@pytest.mark.parametrize("timeout", [0, -1, "30", True, float("nan"), float("inf")])
def test_a_job_type_with_a_bad_timeout_is_refused_naming_it_and_the_plugin(timeout):
    job = Job("Report")
    job.timeout_s = timeout
    with pytest.raises(
        PluginError,
        match=r"plugin 'p': job type 'Report' has timeout_s .*; expected a positive number",
    ):
        JobTypeRegistry().providing("p").add(job)


@pytest.mark.parametrize(("timeout", "seen"), [(None, None), (0.25, 0.25), (30, 30.0)])
def test_a_timeout_is_optional_and_read_as_seconds(timeout, seen):
    job = Job("Report")
    if timeout is not None:
        job.timeout_s = timeout
    registry = JobTypeRegistry()
    registry.providing("p").add(job)
    assert timeout_of(registry.get("Report")) == seen
