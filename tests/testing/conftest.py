"""The kit's own fixtures, as a plugin author's conftest gets them.

An author's top-level conftest says ``pytest_plugins = ["workq_core.testing.pytest_plugin"]``;
pytest refuses ``pytest_plugins`` in a conftest below the top one, as this
is, so the fixtures are imported instead (the same functions).
"""

from workq_core.testing.pytest_plugin import make_workq_harness, workq_harness

__all__ = ["make_workq_harness", "workq_harness"]
