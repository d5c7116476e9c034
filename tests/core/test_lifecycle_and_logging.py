"""Lifecycle observers cannot disturb items; logs are JSON or text and never carry secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from workq_core import ItemEvent, hookimpl
from workq_core.lifecycle import emit
from workq_core.logs import configure_logging
from workq_core.pluginmanager import create_plugin_manager

EVENT = ItemEvent(job_id="j1", job_type="Fibonacci", item_index=3, attempt=1, max_attempts=5)


class Exploding:
    @hookimpl
    def workq_item_started(self, event):
        raise RuntimeError("observer bug")


class Recording:
    def __init__(self):
        self.seen = []

    @hookimpl
    def workq_item_started(self, event):
        self.seen.append(event)


def test_a_failing_observer_is_logged_by_name_and_others_still_run(caplog):
    recorder = Recording()
    pm = create_plugin_manager(
        load_entry_points=False, extra=[("recorder", recorder), ("exploding", Exploding())]
    )

    with caplog.at_level(logging.ERROR):
        emit(pm, "workq_item_started", EVENT)

    assert recorder.seen == [EVENT]
    (record,) = caplog.records
    assert record.plugin == "exploding" and record.hook == "workq_item_started"
    assert "observer bug" in caplog.text


def test_emit_refuses_hooks_that_are_not_lifecycle_hooks():
    pm = create_plugin_manager(load_entry_points=False)
    with pytest.raises(ValueError, match="not a lifecycle hook"):
        emit(pm, "workq_register_job_types", EVENT)


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_extra_fields_and_redact_secrets(restore_root_logger):
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)

    logging.getLogger("workq.test").info(
        "user logged in", extra={"job_id": "j1", "password": "hunter22", "token": "eyJ..."}
    )

    line = json.loads(stream.getvalue())
    assert line["message"] == "user logged in"
    assert line["level"] == "INFO" and line["logger"] == "workq.test"
    assert line["job_id"] == "j1"
    assert line["password"] == "***" and line["token"] == "***"


def test_text_format_is_readable_and_level_filters(restore_root_logger):
    stream = io.StringIO()
    configure_logging("WARNING", "text", stream)

    logging.getLogger("workq.test").info("hidden")
    logging.getLogger("workq.test").warning("item failed", extra={"attempt": 2})

    out = stream.getvalue()
    assert "hidden" not in out
    assert "WARNING workq.test: item failed attempt=2" in out


def test_auto_format_is_json_when_not_a_terminal(restore_root_logger):
    stream = io.StringIO()
    configure_logging("INFO", "auto", stream)
    logging.getLogger("x").info("hello")
    assert json.loads(stream.getvalue())["message"] == "hello"
