"""The run of ``storegate.check``: ``pipeline`` (the whole run, top to bottom) and ``workers``
(the process pool, its recovery after a dead worker, the deep-stack thread)."""
