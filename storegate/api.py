"""Compatibility: ``storegate.api.check`` is ``storegate.run.pipeline.check`` (the run itself is
in ``storegate/run/``)."""

from storegate.run.pipeline import CheckOptions, check, summarize_files

__all__ = ["CheckOptions", "check", "summarize_files"]
