"""Registries validate names, reject duplicates naming both plugins, and list what exists."""

from __future__ import annotations

import pytest

from workq_core import DuplicateName, PluginError, Registry, UnknownName


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
