"""The guide's sections, as data: pyproject.toml's [[tool.guide.sections]], read by the tests,
the tools and the home page, so that none of them keeps a list of its own.

    python tools/sections.py          # one line per section: name, questions, folders, services
    python tools/sections.py --tests databases   # tests/databases (`make quick SECTION=…`)

A section `name` is three folders of that name, `docs/<name>/`, `examples/<name>/` (its app
root: the folder its commands run from, and where its examples import each other by plain
name) and `tests/<name>/`, plus the pyproject extra `<name>` (what its Try it installs).
"""

from __future__ import annotations

import functools
import importlib.machinery
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
# What a section may ask the tests to start for it: tests/support has one way to start each.
SERVICES = {"redis", "smtp", "postgres", "rabbitmq", "haproxy", "prometheus", "s3", "flags",
            "container-runtime", "chromium"}


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    questions: tuple[int, int]  # first and last question number
    services: tuple[str, ...]
    about: str
    extra: tuple[str, ...]  # its pyproject extra: the requirements of its Try it
    root: Path = ROOT  # the project it belongs to

    @property
    def docs(self) -> Path:
        return self.root / "docs" / self.name

    @property
    def examples(self) -> Path:
        return self.root / "examples" / self.name

    @property
    def tests(self) -> Path:
        return self.root / "tests" / self.name

    @property
    def install_include(self) -> Path:
        """The generated fragment with its `pip install` line (tools/install_line.py)."""
        return self.root / "docs" / "_includes" / f"{self.name}-install.md"

    @property
    def label(self) -> str:
        first, last = self.questions
        return f"Q{first}–Q{last}"

    def modules(self) -> set[str]:
        """The top-level names its app root makes importable: modules and packages."""
        names = {p.stem for p in self.examples.glob("*.py")}
        names |= {p.parent.name for p in self.examples.glob("*/__init__.py")}
        return names


def load(pyproject: Path = PYPROJECT) -> tuple[Section, ...]:
    data = tomllib.loads(pyproject.read_text())
    extras = data["project"].get("optional-dependencies", {})
    found = []
    for entry in data["tool"]["guide"]["sections"]:
        name = entry["name"]
        unknown = set(entry["services"]) - SERVICES
        if unknown:
            raise ValueError(f"section {name}: unknown services {sorted(unknown)}")
        if name not in extras:
            raise ValueError(f"section {name}: pyproject.toml has no extra {name!r}")
        first, last = entry["questions"]
        found.append(Section(name, entry["title"], (first, last), tuple(entry["services"]),
                             entry["about"], tuple(extras[name]), pyproject.parent))
    return tuple(found)


@functools.cache
def all_sections() -> tuple[Section, ...]:
    return load()


def get(name: str) -> Section:
    for section in all_sections():
        if section.name == name:
            return section
    raise KeyError(f"no section {name!r} in pyproject.toml's [tool.guide]")


def of_path(path: Path | str) -> Section | None:
    """The section a file of docs/, examples/ or tests/ belongs to (a path relative to the
    project root, or absolute), if any."""
    path = Path(path)
    parts = (path.resolve().relative_to(ROOT) if path.is_absolute() else path).parts
    if len(parts) >= 2 and parts[0] in ("docs", "examples", "tests"):
        for section in all_sections():
            if section.name == parts[1]:
                return section
    return None


def runtime_requirements() -> list[str]:
    """Every section's extra, in order, each requirement once: what the sandbox image holds."""
    seen: list[str] = []
    for section in all_sections():
        seen += [req for req in section.extra if req not in seen]
    return seen


def clashes(sections: tuple[Section, ...] | None = None) -> list[str]:
    """Names that would shadow something once every app root is on sys.path: a module of two
    sections, or of a section and the standard library or an installed distribution."""
    sections = all_sections() if sections is None else sections
    return shadowing({s.name: s.modules() for s in sections})


def shadowing(modules: dict[str, set[str]]) -> list[str]:
    """clashes(), for the top-level names of each section's app root, by section name (what
    a section about to be written would add, too)."""
    roots = {s.examples for s in all_sections()}
    outside = [p for p in sys.path if p and Path(p).resolve() not in roots]
    owner: dict[str, str] = {}
    found = []
    for section, names in modules.items():
        for name in sorted(names):
            if name in owner:
                found.append(f"{name}: examples/{owner[name]}/ and examples/{section}/")
            elif name in sys.stdlib_module_names:
                found.append(f"{name}: examples/{section}/ shadows the standard library")
            elif importlib.machinery.PathFinder.find_spec(name, outside) is not None:
                found.append(f"{name}: examples/{section}/ shadows an installed package")
            owner.setdefault(name, section)
    return found


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tests"]:
        try:
            section = get(sys.argv[2])
        except (KeyError, IndexError) as exc:
            names = ", ".join(s.name for s in all_sections())
            sys.exit(f"{exc}: a section is one of {names}")
        print(section.tests.relative_to(ROOT).as_posix())
        sys.exit()
    for s in all_sections():
        print(f"{s.name:10} {s.label:8} docs/{s.name}/ examples/{s.name}/ tests/{s.name}/ "
              f"services: {', '.join(s.services)}; extra: {len(s.extra)} requirements")
