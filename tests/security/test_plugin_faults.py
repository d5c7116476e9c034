"""A plugin that raises in every hook: start-up fails naming it; lifecycle errors are contained.

tests/core/test_pluginmanager.py covers a raising dedup-store registration at
catalog level and tests/executor/test_delivery_semantics.py a raising
started/succeeded observer in the pipeline. Here each registration hook stops
the whole stack's start naming the plugin and hook, leaving no port bound, and
an observer raising in all four lifecycle hooks leaves completions, retries
and dead letters exactly as they would be without it.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from typing import Any

import pytest

from tests.auth.conftest import Client, create_user, login
from tests.jobs_service.conftest import stack_env, submit
from tests.support.ports import free_port
from workq_core import PluginError, RetryPolicy, hookimpl
from workq_core.lifecycle import LIFECYCLE_HOOKS
from workq_core.runtime import bootstrap
from workq_entrypoints.stack import start_stack

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]

REGISTRATION_HOOKS = (
    "workq_register_config_sections",
    "workq_register_job_types",
    "workq_register_auth_backends",
    "workq_register_dedup_stores",
    "workq_register_transports",
)


def _raising_in(hook: str) -> Any:
    def impl(self, registry):
        raise RuntimeError("plugin bug")

    impl.__name__ = hook
    return type("Raising", (), {hook: hookimpl(impl)})()


def _env(database_url, tmp_path, broker_url) -> dict[str, str]:
    auth, grpc = free_port(), free_port()
    return {
        **stack_env(database_url, tmp_path, broker_url),
        "WORKQ_AUTH_PORT": str(auth),
        "WORKQ_AUTH_GRPC_PORT": str(grpc),
        "WORKQ_JOBS_PORT": "0",
        "WORKQ_EXECUTOR_PORT": "0",
        "WORKQ_EXECUTOR_BASE_DELAY_MS": "0",
        "WORKQ_EXECUTOR_MAX_DELAY_MS": "0",
    }


@pytest.mark.parametrize("hook", REGISTRATION_HOOKS)
def test_a_raising_registration_hook_stops_start_up_naming_the_plugin(
    database_url, tmp_path, lite_broker, hook
):
    env = _env(database_url, tmp_path, lite_broker.url)

    with pytest.raises(PluginError) as caught:
        runtime = bootstrap(env=env, extra_plugins=[("exploding", _raising_in(hook))])
        start_stack(runtime).stop()  # reached only if nothing raised

    assert str(caught.value) == f"plugin 'exploding' failed in {hook}: RuntimeError: plugin bug"
    for port in (env["WORKQ_AUTH_PORT"], env["WORKQ_AUTH_GRPC_PORT"]):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", int(port)))  # nothing was left listening


class FlakyJob:
    name = "Flaky"
    description = "Always fails."
    input_schema = {"type": "object", "additionalProperties": False}
    retry = RetryPolicy(max_attempts=2, base_delay_ms=0, max_delay_ms=0)

    def run(self, data: dict[str, Any], ctx: Any) -> dict[str, Any]:
        raise ValueError("always")


class ExplodingObserver:
    """Registers a job type (so it is loaded) and raises in every lifecycle hook."""

    @hookimpl
    def workq_register_job_types(self, registry: Any) -> None:
        registry.add(FlakyJob())

    @hookimpl
    def workq_item_started(self, event):
        raise RuntimeError("observer bug")

    @hookimpl
    def workq_item_succeeded(self, event):
        raise RuntimeError("observer bug")

    @hookimpl
    def workq_item_failed(self, event):
        raise RuntimeError("observer bug")

    @hookimpl
    def workq_item_dead(self, event):
        raise RuntimeError("observer bug")


def _final(client: Client, job_id: str, timeout_s: float = 30) -> dict[str, Any]:
    query = "query ($id: ID!) { job(id: $id) { status items { status attempts result } } }"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = client.post(query, {"id": job_id}).json["data"]["job"]
        if record["status"] in ("completed", "failed", "cancelled"):
            return record
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not final: {record}")


def test_raising_lifecycle_hooks_are_logged_and_items_unaffected(
    database_url, tmp_path, lite_broker, caplog
):
    env = _env(database_url, tmp_path, lite_broker.url)
    runtime = bootstrap(env=env, extra_plugins=[("exploding", ExplodingObserver())])
    stack = start_stack(runtime)
    try:
        at_auth = Client(stack.auth.http_port)
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        create_user(at_auth, email)
        login(at_auth, email)
        client = Client(stack.jobs.http.port, dict(at_auth.cookies))

        with caplog.at_level(logging.ERROR):
            good = _final(
                client, submit(client, "Fibonacci", [{"iterations": 10}, {"iterations": 20}])
            )
            bad = _final(client, submit(client, "Flaky", {}))
    finally:
        stack.stop()

    assert good["status"] == "completed"
    assert [i["result"] for i in good["items"]] == [{"value": "55"}, {"value": "6765"}]
    assert [i["attempts"] for i in good["items"]] == [1, 1]
    assert bad["status"] == "failed"
    assert bad["items"] == [{"status": "dead", "attempts": 2, "result": None}]
    failures = [r for r in caplog.records if r.getMessage() == "lifecycle plugin failed"]
    assert {r.plugin for r in failures} == {"exploding"}
    assert {r.hook for r in failures} == set(LIFECYCLE_HOOKS)
