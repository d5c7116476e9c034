"""docs/timeouts.md stays true: its example plugin runs through the test kit as the page says."""

from __future__ import annotations

import hashlib
import importlib
import re
from pathlib import Path

from workq_core.testing import Harness

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "timeouts.md").read_text(encoding="utf-8")
EXAMPLE = re.compile(r"^```python file=(\S+)\n(.*?)^```$", re.M | re.S)


def test_the_example_plugin_times_out_heartbeats_and_checksums(tmp_path, monkeypatch):
    # Given the page's plugin module, importable (worker processes import it too)
    ((filename, source),) = EXAMPLE.findall(PAGE)
    (tmp_path / filename).write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(Path(filename).stem)
    monkeypatch.setattr(module.CollatzJob, "timeout_s", 0.5)  # the page's 5 s, shortened
    plugins = {"examples": module}
    with Harness(tmp_path / "kit", plugins=plugins, entry_points=False, delay_scale=0) as harness:
        # Then Collatz(27) takes its 111 steps, and n = 0 times out on both attempts
        collatz = harness.run("Collatz", [{"n": 27}, {"n": 0}])
        # And Checksum reads a file in chunks, heartbeating, to its SHA-256
        content = bytes(range(256)) * 12_000  # three chunks' worth
        (tmp_path / "data.bin").write_bytes(content)
        (item,) = harness.run("Checksum", {"path": str(tmp_path / "data.bin")}).items
    outcomes = [(i.status, i.attempts, i.error_type) for i in collatz.items]
    assert outcomes == [("completed", 1, None), ("dead", 2, "AttemptTimedOut")]
    assert collatz.items[0].result == {"steps": 111}
    assert item.result == {"sha256": hashlib.sha256(content).hexdigest()}
