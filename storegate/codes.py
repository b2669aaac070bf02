"""Compatibility: the codes moved to ``storegate.checks`` (one module per code, the registry) and
``storegate.checks.docs``; kept for code written against this module, in branches in flight."""

from storegate.checks import CODES, Code, get
from storegate.checks.docs import render_doc, render_markdown

__all__ = ["CODES", "Code", "get", "render_doc", "render_markdown"]
