"""The version, in a module of its own that imports nothing (``storegate/__init__.py`` reads it)."""

__version__ = "0.1.0"
