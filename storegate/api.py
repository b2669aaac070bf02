"""Compatibility: ``storegate.api.check`` is ``storegate.run.pipeline.check`` (the run itself is
in ``storegate/run/``). Editors: ``check(paths, config, unsaved={path: text})`` checks the
project with the unsaved text of a file instead of its content on disk (never cached)."""

from storegate.run.pipeline import CheckOptions, Progress, check, summarize_files

__all__ = ["CheckOptions", "Progress", "check", "summarize_files"]
