"""Errors that end in a clear one-line message rather than a traceback."""

from __future__ import annotations


class StoregateError(Exception):
    """Base of every error storegate reports to the user."""


class ConfigError(StoregateError):
    """A bad ``[tool.storegate]`` table, rule pack or command-line option (exit 2)."""


class SourceError(StoregateError):
    """A file that cannot be read or parsed; the run goes on with the other files."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
