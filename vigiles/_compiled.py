"""Which modules an install compiles, and the guard that keeps a source checkout's edits in force.

The per-event path (decoding, prefilter, shell reading, rule evaluation) is plain Python. Where
Cython and a C compiler are at hand, `setup.py` also compiles these modules from the same source,
with nothing changed: the compiled module is imported in place of the .py (docs/performance.md has
what it saves). Without a compiler the package is the same, slower; VIGILES_PURE_PYTHON=1 at install
builds none, and at run time imports every module from its .py.

No import here beyond the standard library: setup.py reads COMPILED before anything is installed.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

COMPILED = (
    "vigiles/events/__init__.py",
    "vigiles/events/base.py",
    "vigiles/events/action.py",
    "vigiles/sources/__init__.py",
    "vigiles/sources/base.py",
    "vigiles/sources/generic.py",
    "vigiles/pipeline.py",
    "vigiles/analysis/attribution.py",
    "vigiles/analysis/command.py",
    "vigiles/analysis/condition.py",
    "vigiles/analysis/decode.py",
    "vigiles/analysis/endpoints.py",
    "vigiles/analysis/engine.py",
    "vigiles/analysis/evasion.py",
    "vigiles/analysis/fields.py",
    "vigiles/analysis/filters.py",
    "vigiles/analysis/findings.py",
    "vigiles/analysis/incidents.py",
    "vigiles/analysis/perl_filter.py",
    "vigiles/analysis/proctree.py",
    "vigiles/analysis/regex.py",
    "vigiles/analysis/sed.py",
)
"""Paths from the project root. Only modules on the per-event path: compiling costs install time.

Not compiled: the readers that recurse as deep as hostile input nests (shell.py's tree walk, code.py's
and arith.py's, awk.py's). Compiled code calls itself without Python's recursion check and uses more
C stack per level. The shell walk now bounds its own nesting (shell.MAX_NESTING, RecursionError as
Python would raise), which makes it safe to compile on glibc's 8 MiB thread stacks, but at that
bound it needs between 256 and 512 KiB of C stack compiled (musl gives threads 128 KiB), and it
saved only 2.7 % of the instructions of the 100k replay (valgrind): it stays Python.
condition.py recurses only as deep as a rule's condition nests, which its parser bounds (MAX_NESTING)."""

NAMES = frozenset(path[:-3].replace("/", ".").removesuffix(".__init__") for path in COMPILED)


def compiled() -> list[str]:
    """The modules of COMPILED that this process runs compiled (imported ones only)."""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return sorted(name for name in NAMES
                  if (getattr(sys.modules.get(name), "__file__", None) or "").endswith(suffixes))


class PreferEditedSource:
    """In a source checkout (an editable install), a module whose .py is newer than its compiled
    twin is imported from the .py: an edit is in force at once, not after the next build.
    An installed package has no such twin to go stale, and this finder is not installed there."""

    def __init__(self, names: frozenset[str] = NAMES, always: bool = False) -> None:
        self.names = names
        self.always = always
        """Prefer every source, edited or not (VIGILES_PURE_PYTHON=1: to compare, or to debug)."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in self.names or not path:
            return None
        leaf = fullname.rpartition(".")[2]
        for directory in path:
            base = os.path.join(directory, leaf)
            package = os.path.isdir(base)
            source = os.path.join(base, "__init__.py") if package else base + ".py"
            try:
                source_time = os.stat(source).st_mtime_ns
            except OSError:
                continue
            stem = os.path.join(base, "__init__") if package else base
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                try:
                    built_time = os.stat(stem + suffix).st_mtime_ns
                except OSError:
                    continue
                if self.always or source_time > built_time:
                    locations = [base] if package else None
                    return importlib.util.spec_from_file_location(fullname, source,
                                                                  submodule_search_locations=locations)
                return None
            return None
        return None


def guard_source_checkout(package_dir: str) -> None:
    """Install PreferEditedSource when the package runs from a checkout (pyproject.toml beside it),
    or everywhere with VIGILES_PURE_PYTHON=1."""
    pure = bool(os.environ.get("VIGILES_PURE_PYTHON"))
    checkout = os.path.exists(os.path.join(os.path.dirname(package_dir), "pyproject.toml"))
    if (pure or checkout) and not any(isinstance(finder, PreferEditedSource) for finder in sys.meta_path):
        sys.meta_path.insert(0, PreferEditedSource(always=pure))
