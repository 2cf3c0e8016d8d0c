"""loopml: the whole level-2 MLOps loop in one package.

The names below are imported on first use, so ``import loopml`` stays light:
the tracking API pulls in SQLAlchemy only when a run starts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loopml.core.version import __version__

_LAZY = {
    "ActiveRun": "loopml.tracking",
    "active_run": "loopml.tracking",
    "autolog": "loopml.tracking",
    "end_run": "loopml.tracking",
    "flush": "loopml.tracking",
    "get_metric_history": "loopml.tracking",
    "get_run": "loopml.tracking",
    "list_experiments": "loopml.tracking",
    "log_artifact": "loopml.tracking",
    "log_metric": "loopml.tracking",
    "log_metrics": "loopml.tracking",
    "log_object": "loopml.tracking",
    "log_param": "loopml.tracking",
    "log_params": "loopml.tracking",
    "search_runs": "loopml.tracking",
    "set_tag": "loopml.tracking",
    "set_tags": "loopml.tracking",
    "start_run": "loopml.tracking",
    "Settings": "loopml.core",
    "LoopMLError": "loopml.core",
    "Workspace": "loopml.workspace",
    "get_workspace": "loopml.workspace",
}

__all__ = [
    "ActiveRun",
    "LoopMLError",
    "Settings",
    "Workspace",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "get_workspace",
    "list_experiments",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_object",
    "log_param",
    "log_params",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
]

if TYPE_CHECKING:
    from loopml.core import LoopMLError, Settings
    from loopml.tracking import (
        ActiveRun,
        active_run,
        autolog,
        end_run,
        flush,
        get_metric_history,
        get_run,
        list_experiments,
        log_artifact,
        log_metric,
        log_metrics,
        log_object,
        log_param,
        log_params,
        search_runs,
        set_tag,
        set_tags,
        start_run,
    )
    from loopml.workspace import Workspace, get_workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
