"""storegate: find persistence calls that are not gated by the ``store`` flag."""

from __future__ import annotations

__version__ = "0.1.0"

from storegate.api import check
from storegate.model import Config, FileError, Finding, Flag, Pack, Result, Sink

__all__ = ["check", "Config", "FileError", "Finding", "Flag", "Pack", "Result", "Sink", "__version__"]
