"""Experiment tracking: runs with params, metrics, tags and artifacts; search; autologging.

``with loopml.start_run(experiment="flights"):`` opens a run; ``log_param``,
``log_metric`` (buffered, microseconds per call), ``set_tag``,
``log_artifact`` and ``log_object`` write into it; ``search_runs`` finds runs
with a filter such as ``metrics.auc > 0.7 and params.model = 'hgb'``;
``autolog()`` records every scikit-learn ``fit``. A run is an execution of
type ``run`` in the metadata store, in an ``experiment`` context, so its
artifacts join the lineage graph.
"""

from __future__ import annotations

from loopml.tracking.autolog import autolog
from loopml.tracking.runs import (
    ActiveRun,
    active_run,
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

__all__ = [
    "ActiveRun",
    "active_run",
    "autolog",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
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
