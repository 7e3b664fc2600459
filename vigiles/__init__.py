"""vigiles: an independent watcher for AI agents."""
__version__ = "0.1.0"


def __getattr__(name: str):
    """`vigiles.guard` without importing the rule engine for every `import vigiles`."""
    if name == "guard":
        import importlib
        return importlib.import_module("vigiles.guard")
    raise AttributeError(name)
