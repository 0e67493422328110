"""Visit plugins, where users find them: see `footfall.processors.visit_plugins`.

The registry and the `Visit` type live with the processors, because the
worker's visits step runs the plugins; the middlewares here run the inline
ones. These names are the documented ones (docs/recipes/visits.md).
"""

from __future__ import annotations

from footfall.processors.visit_plugins import (
    DEFAULT_VISIT_TIMEOUT,
    Visit,
    VisitPlugin,
    VisitTracker,
    disable_visit_plugin,
    enable_visit_plugin,
    inline_plugins,
    run_inline_plugins,
    run_plugins,
    visit_plugins,
    worker_plugins,
)

__all__ = [
    "DEFAULT_VISIT_TIMEOUT",
    "Visit",
    "VisitPlugin",
    "VisitTracker",
    "disable_visit_plugin",
    "enable_visit_plugin",
    "inline_plugins",
    "run_inline_plugins",
    "run_plugins",
    "visit_plugins",
    "worker_plugins",
]
