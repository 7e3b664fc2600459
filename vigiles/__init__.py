"""vigiles: an independent watcher for AI agents."""
__version__ = "0.1.0"
