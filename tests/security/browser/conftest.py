"""The dashboard tests' real stack and headless Chromium, for attacks that need a browser."""

from tests.dashboard.conftest import (  # noqa: F401 - fixtures
    browser,
    chromium,
    email,
    page,
    stack,
    traffic,
)
