"""The generated gRPC stubs in the repository match protos/."""

from __future__ import annotations

from pathlib import Path

from workq_core.rpc import generate


def test_stubs_are_current(tmp_path):
    generate.generate(tmp_path)

    for name in generate.GENERATED:
        fresh = (tmp_path / "workq_core" / "rpc" / name).read_text()
        committed = (Path(generate.STUB_DIR) / name).read_text()
        assert fresh == committed, f"run: python -m workq_core.rpc.generate ({name} is stale)"
