"""storegate: find persistence calls that are not gated by the ``store`` flag.

This module imports nothing at import time. ``python -m storegate`` imports the package before
``storegate/__main__.py`` can take the current directory off ``sys.path``: an import here (even
of the stdlib's ``json``) would load a module of that name from the directory being checked.
``check``, ``CheckOptions`` and the model types are loaded on first use.
"""

from storegate._version import __version__

_LAZY = {
    "check": "storegate.run.pipeline",
    "CheckOptions": "storegate.run.pipeline",
    "Config": "storegate.model",
    "FileError": "storegate.model",
    "Finding": "storegate.model",
    "Flag": "storegate.model",
    "Pack": "storegate.model",
    "Result": "storegate.model",
    "Sink": "storegate.model",
}

__all__ = ["check", "CheckOptions", "Config", "FileError", "Finding", "Flag", "Pack", "Result", "Sink", "__version__"]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'storegate' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
