"""Errors of pipelines: definition mistakes found before anything runs, and step failures."""

from __future__ import annotations

from loopml.core.errors import InvalidInputError, LoopMLError


class PipelineError(LoopMLError):
    """Root of the pipeline errors."""

    error_code = "pipeline_error"


class PipelineDefinitionError(PipelineError, InvalidInputError):
    """A pipeline or step is malformed (cycle, missing input, type mismatch, unknown name).

    Raised while compiling the plan, before any step runs.
    """

    error_code = "pipeline_definition_error"


class StepOutputError(PipelineError):
    """A step returned something other than what its signature promised."""

    error_code = "step_output_error"


class StepFailedError(PipelineError):
    """A step failed after its retries; the pipeline run is marked failed."""

    error_code = "step_failed"

    def __init__(self, message: str, *, step: str, run_id: str, traceback: str = "") -> None:
        super().__init__(message)
        self.step = step
        self.run_id = run_id
        self.traceback = traceback


class StepTimeoutError(PipelineError):
    """A step ran longer than its ``timeout``."""

    error_code = "step_timeout"
