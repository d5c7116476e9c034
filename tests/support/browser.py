"""The system's headless Chromium, driven by Playwright, for the dashboard's browser tests.

Playwright's own browser download needs its CDN; these tests use the
distribution's Chromium (Debian: ``apt-get install chromium``, which
``.ci/run`` does when it is missing), or the one ``WORKQ_TEST_CHROMIUM``
names. A machine without one fails the tests with that advice, never
skips them.
"""

from __future__ import annotations

import os
import shutil

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "the dashboard's browser tests need a Chromium: install Debian's (apt-get install -y chromium)"
    " or set WORKQ_TEST_CHROMIUM to a Chromium or Chrome executable"
)


def chromium_path() -> str | None:
    """``WORKQ_TEST_CHROMIUM``, else the first Chromium on PATH, else None."""
    named = os.environ.get("WORKQ_TEST_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None
