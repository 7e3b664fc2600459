"""vigiles: an independent watcher for AI agents."""
__version__ = "0.1.0"

from ._compiled import guard_source_checkout as _guard_source_checkout

_guard_source_checkout(__path__[0])


def __getattr__(name: str):
    """`vigiles.guard` without importing the rule engine for every `import vigiles`."""
    if name == "guard":
        import importlib
        return importlib.import_module("vigiles.guard")
    raise AttributeError(name)
