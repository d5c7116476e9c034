"""The [pulsar] section: defaults, environment, and errors that name the key."""

from __future__ import annotations

import pytest

import workq_pulsar
from workq_core import ConfigError
from workq_core.runtime import bootstrap
from workq_pulsar.topics import TopicNames, topic_local_name


def pulsar_section(env: dict[str, str]):
    """Resolve settings with this plugin alone, as the core would with it installed."""
    runtime = bootstrap(env=env, extra_plugins=[("pulsar", workq_pulsar)], load_entry_points=False)
    return runtime.settings.section("pulsar")


def test_defaults_suit_a_job_queue():
    settings = pulsar_section({})
    assert settings.service_url == "embedded"
    assert (settings.tenant, settings.namespace) == ("public", "default")
    assert settings.subscription == "workq-executors"
    assert settings.receiver_queue_size == 100
    assert settings.shim_enabled is True


def test_environment_and_legacy_alias():
    settings = pulsar_section(
        {"PULSAR_SERVICE_URL": "pulsar://broker:6650", "WORKQ_PULSAR_LITE_SHIM": "true"}
    )
    assert settings.service_url == "pulsar://broker:6650"
    assert settings.shim_enabled is True
    assert pulsar_section({"PULSAR_SERVICE_URL": "pulsar://b:6650"}).shim_enabled is False


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"PULSAR_SERVICE_URL": "http://broker:8080"}, "pulsar.service_url"),
        ({"WORKQ_PULSAR_TENANT": "a/b"}, "pulsar.tenant"),
        ({"WORKQ_PULSAR_NAMESPACE": ""}, "pulsar.namespace"),
        ({"WORKQ_PULSAR_SUBSCRIPTION": "x y"}, "pulsar.subscription"),
        ({"WORKQ_PULSAR_RECEIVER_QUEUE_SIZE": "0"}, "pulsar.receiver_queue_size"),
        ({"WORKQ_PULSAR_OPERATION_TIMEOUT_S": "soon"}, "pulsar.operation_timeout_s"),
        ({"WORKQ_PULSAR_SEND_TIMEOUT_MS": "5"}, "pulsar.send_timeout_ms"),
        ({"WORKQ_PULSAR_LITE_SHIM": "maybe"}, "pulsar.lite_shim"),
    ],
)
def test_invalid_values_name_the_key(env, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        pulsar_section(env)


def test_topic_names_are_valid_deterministic_and_distinct():
    assert topic_local_name("Fibonacci") == "workq.Fibonacci"
    odd = topic_local_name("résumé parse/v2")
    assert odd == topic_local_name("résumé parse/v2")
    assert odd.startswith("workq.r_sum__parse_v2-")
    assert topic_local_name("a/b") != topic_local_name("a_b")
    # a job type may not take over another's dead-letter topic
    assert topic_local_name("Foo-DLQ") != topic_local_name("Foo") + "-DLQ"
    names = TopicNames("t", "ns")
    assert names.topic("Fib") == "persistent://t/ns/workq.Fib"
    assert names.dlq("Fib") == "persistent://t/ns/workq.Fib-DLQ"
    assert names.job_type(names.dlq("Fib")) == "Fib"
