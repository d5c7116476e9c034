"""``.env`` files: the dotenv subset Workq reads, parsed strictly enough to point at a typo.

The files are a settings layer between the real environment and ``workq.toml``
(see ``Layers``). They are read by the command-line entry point at start-up,
never by library code on import, and the parsed result travels to worker
processes, so one start-up reads them once and every process agrees.

Supported, as most dotenv tools accept it: ``KEY=value``, ``export KEY=value``,
blank lines, ``#`` comments (whole lines, or after whitespace in an unquoted
value), ``'single'`` quotes (literal) and ``"double"`` quotes (``\\n``, ``\\t``,
``\\r``, ``\\"`` and ``\\\\`` escapes). Not supported, and so never guessed at:
``${VAR}`` expansion (values are literal) and values spanning lines. A line
that is none of these is a ConfigError naming the file and the line; the line
itself is never quoted back, since it may hold a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workq_core.errors import ConfigError

SHARED_FILE = ".env"
SERVICES = ("auth", "jobs", "executor")

_ASSIGNMENT = re.compile(r"(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_INLINE_COMMENT = re.compile(r"[ \t]+#.*")


@dataclass(frozen=True)
class DotenvFile:
    """One parsed file: its name, shown as the source ``file NAME``, and its pairs.

    ``values`` holds every pair in the file, Workq's or not; ``Layers`` looks up
    only the names Workq knows, so docker compose's ``POSTGRES_PASSWORD`` is
    never used. It is left out of ``repr`` so a traceback never prints a secret.
    """

    name: str
    values: Mapping[str, str] = field(repr=False)


def service_file(service: str) -> str:
    """``.env.<service>``: the file only that service's command reads."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    return f"{SHARED_FILE}.{service}"


def read_dotenv_files(directory: Path, service: str | None = None) -> tuple[DotenvFile, ...]:
    """The files present in ``directory``, highest precedence first.

    That is ``.env.<service>`` (when a service is given) before ``.env``; a
    missing file is simply absent, since both are optional.
    """
    names = ([service_file(service)] if service else []) + [SHARED_FILE]
    found = (read_dotenv(directory / name, name) for name in names)
    return tuple(dotfile for dotfile in found if dotfile is not None)


def read_dotenv(path: Path, name: str) -> DotenvFile | None:
    """Parse the file at ``path`` (called ``name`` in messages), or None if there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read {name}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{name}:{line}: not UTF-8 text") from None
    return DotenvFile(name, parse_dotenv(text, name))


def parse_dotenv(text: str, name: str) -> dict[str, str]:
    """The pairs of dotenv ``text``; a later line wins over an earlier one with the same key."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r").strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(line)
        if match is None:
            raise ConfigError(
                f"{name}:{number}: expected KEY=value (KEY made of letters, digits and _, "
                "not starting with a digit), a comment or a blank line"
            )
        key, value = match[1], match[2]
        values[key] = _value(value, key, f"{name}:{number}")
    return values


def _value(raw: str, key: str, where: str) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end < 0:
            raise ConfigError(f"{where}: the value of {key} has no closing ' (on this line)")
        value, rest = raw[1:end], raw[end + 1 :]
    elif raw[:1] == '"':
        value, rest = _double_quoted(raw, key, where)
    else:
        return _INLINE_COMMENT.sub("", raw).rstrip()
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise ConfigError(f"{where}: unexpected text after the quoted value of {key}")
    return value


def _double_quoted(raw: str, key: str, where: str) -> tuple[str, str]:
    """The unescaped text between the opening ``"`` and its closing one, and what follows."""
    out: list[str] = []
    i = 1
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw):
            following = raw[i + 1]
            out.append(_ESCAPES.get(following, char + following))
            i += 2
        elif char == '"':
            return "".join(out), raw[i + 1 :]
        else:
            out.append(char)
            i += 1
    raise ConfigError(f'{where}: the value of {key} has no closing " (on this line)')


def first_value(files: Sequence[DotenvFile], names: Sequence[str]) -> tuple[str, str] | None:
    """(value, source) of the first of ``names`` set in the highest file that sets any."""
    for dotfile in files:
        for env_name in names:
            if env_name in dotfile.values:
                return dotfile.values[env_name], f"file {dotfile.name}"
    return None
