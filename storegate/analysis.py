"""PLACEHOLDER: the real analyzer is being written; this stub finds nothing."""

from __future__ import annotations

from storegate.model import Config, Finding


def analyze_source(source: str, path: str, config: Config) -> list[Finding]:
    return []
