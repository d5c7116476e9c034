"""A new plugin distribution from the template shipped in this package (``workq new-plugin``)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from string import Template

from workq_core import WorkqError, __version__
from workq_core.hookspecs import ENTRY_POINT_GROUP

MAX_NAME = 40
NAME_RULE = (
    "use lowercase letters and digits, words joined by single '-' or '_', starting with a "
    f"letter, at most {MAX_NAME} characters, without the 'workq' prefix (e.g. word-count)"
)
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
# template file -> where it goes in the new distribution
FILES = (
    ("pyproject.toml.tmpl", "pyproject.toml"),
    ("setup.cfg.tmpl", "setup.cfg"),
    ("README.md.tmpl", "README.md"),
    ("gitignore.tmpl", ".gitignore"),
    ("package.py.tmpl", "{package}/__init__.py"),
    ("conftest.py.tmpl", "tests/conftest.py"),
    ("test_package.py.tmpl", "tests/test_{package}.py"),
)


class InvalidName(WorkqError):
    """Not a usable plugin name."""


class CannotCreate(WorkqError):
    """The plugin cannot be created where, or under the name, asked."""


@dataclass(frozen=True)
class PluginNames:
    """Every name of one plugin, derived from the one its author chose."""

    name: str  # the entry point: the plugin's name in `workq plugins` and --disable-plugin
    distribution: str  # what pip installs
    package: str  # what Python imports
    job_type: str  # what clients submit; also the item topic
    job_class: str
    workq_version: str

    @classmethod
    def from_name(cls, name: str) -> PluginNames:
        """Derive the names; InvalidName says what is allowed."""
        if not _NAME.match(name) or len(name) > MAX_NAME or name.startswith("workq"):
            raise InvalidName(f"invalid plugin name {name!r}: {NAME_RULE}")
        words = re.split(r"[-_]", name)
        job_type = "".join(word.capitalize() for word in words)
        return cls(
            name=name,
            distribution="workq-" + "-".join(words),
            package="workq_" + "_".join(words),
            job_type=job_type,
            job_class=f"{job_type}Job",
            workq_version=__version__,
        )


def render(names: PluginNames) -> dict[str, str]:
    """Each file of the new distribution (relative path -> text), nothing written yet."""
    template_dir = files("workq_entrypoints") / "templates" / "plugin"
    values = asdict(names)
    return {
        target.format(package=names.package): Template(
            (template_dir / source).read_text(encoding="utf-8")
        ).substitute(values)
        for source, target in FILES
    }


def create_plugin(names: PluginNames, target: Path) -> list[Path]:
    """Write the distribution into ``target``, which must not exist or be an empty directory.

    Never overwrites: any existing file is a CannotCreate before anything is
    written. Returns the paths written, in template order.
    """
    installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if names.name in installed:
        dist = installed[names.name].dist
        owner = f" by {dist.metadata['Name']}" if dist is not None else ""
        raise CannotCreate(
            f"a plugin named {names.name!r} is already installed{owner}; choose another NAME"
        )
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise CannotCreate(f"{target} exists and is not an empty directory; nothing was written")
    texts = render(names)
    written = []
    for relative, text in texts.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never replace a file
            out.write(text)
        written.append(path)
    return written
