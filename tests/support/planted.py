"""Bugs planted in a copy of an example, the way a mutation tool plants them: one exact
textual change, made in a temporary folder, never in the published file.

    with planted(tmp_path, "examples/testing/customer_store.py", find, replace) as module:
        ...   # `module` is the changed copy, imported under a name of its own

The copy sits beside copies of its folder's other files (a page's script, a template), so
what the module reads next to itself is there too.
"""

import contextlib
import importlib.util
import itertools
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from support.paths import ROOT

_names = itertools.count()


def plant(source: Path, find: str, replace: str) -> str:
    """`source`'s text with `find` (which must occur exactly once) replaced."""
    text = source.read_text()
    assert text.count(find) == 1, f"{source.name}: {find!r} occurs {text.count(find)} times"
    return text.replace(find, replace)


@contextlib.contextmanager
def planted(folder: Path, module: str, find: str = "", replace: str = "",
            in_file: str | None = None) -> Iterator[ModuleType]:
    """Copy `module`'s folder into `folder`, change `find` to `replace` in `in_file` (the
    module itself by default; empty `find`: no change), and import the copy."""
    source = ROOT / module
    folder.mkdir(parents=True, exist_ok=True)
    for each in source.parent.iterdir():
        if each.is_file():
            shutil.copy(each, folder / each.name)
    if find:
        target = ROOT / (in_file or module)
        (folder / target.name).write_text(plant(target, find, replace))
    name = f"planted_{source.stem}_{next(_names)}"
    spec = importlib.util.spec_from_file_location(name, folder / source.name)
    copy = importlib.util.module_from_spec(spec)
    sys.modules[name] = copy
    try:
        spec.loader.exec_module(copy)
        yield copy
    finally:
        sys.modules.pop(name, None)
