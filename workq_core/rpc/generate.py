"""Regenerate the gRPC stubs from ``protos/``: ``python -m workq_core.rpc.generate [OUT_DIR]``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos"
STUB_DIR = Path(__file__).resolve().parent
PROTO_FILES = ("auth.proto",)
GENERATED = ("auth_pb2.py", "auth_pb2.pyi", "auth_pb2_grpc.py")


def generate(out_dir: Path = STUB_DIR) -> None:
    """Run protoc so generated imports read ``from workq_core.rpc import auth_pb2``.

    ``-Iworkq_core/rpc=protos`` maps the proto directory onto the package
    path; ``out_dir`` receives ``workq_core/rpc/*`` when it is not the package.
    """
    from grpc_tools import protoc

    target = ROOT if out_dir == STUB_DIR else out_dir
    args = [
        "grpc_tools.protoc",
        f"-Iworkq_core/rpc={PROTOS}",
        f"--python_out={target}",
        f"--pyi_out={target}",
        f"--grpc_python_out={target}",
        *(str(PROTOS / name) for name in PROTO_FILES),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else STUB_DIR)
