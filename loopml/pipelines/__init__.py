"""Pipelines: typed steps composed in plain Python, run with caching, lineage and retries.

``@step`` makes a function a step and ``@pipeline`` a function that calls
steps; ``compile()`` turns it into a :class:`Plan` (a pure DAG) and
:func:`run` executes the plan on an executor (in-process, a process pool, Ray
or Dask), storing every output through its materializer in the artifact store,
recording every step try as an execution with input and output events, and
skipping steps whose cache key (code, params, input digests, materializer
versions) matches an earlier success. :func:`resume` reruns what did not
finish. ``dataset()`` and ``save()`` read and write the data catalog;
:func:`current_step` tells a running step its run, inputs and stores.
"""

from __future__ import annotations

from loopml.pipelines.cache import cache_key, code_fingerprint
from loopml.pipelines.context import StepContext, current_step, step_workspace
from loopml.pipelines.errors import (
    PipelineDefinitionError,
    PipelineError,
    StepFailedError,
    StepOutputError,
    StepRejectedError,
    StepTimeoutError,
)
from loopml.pipelines.pipeline import (
    Pipeline,
    dataset,
    declared_pipelines,
    find_pipeline,
    load_pipeline,
    pipeline,
    save,
)
from loopml.pipelines.plan import Node, OutputRef, Plan
from loopml.pipelines.runner import PipelineRun, fail_stale_runs, resume, run
from loopml.pipelines.step import Step, StepSettings, step

__all__ = [
    "Node",
    "OutputRef",
    "Pipeline",
    "PipelineDefinitionError",
    "PipelineError",
    "PipelineRun",
    "Plan",
    "Step",
    "StepContext",
    "StepFailedError",
    "StepOutputError",
    "StepRejectedError",
    "StepSettings",
    "StepTimeoutError",
    "cache_key",
    "code_fingerprint",
    "current_step",
    "dataset",
    "declared_pipelines",
    "fail_stale_runs",
    "find_pipeline",
    "load_pipeline",
    "pipeline",
    "resume",
    "run",
    "save",
    "step",
    "step_workspace",
]
