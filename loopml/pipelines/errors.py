"""Errors of pipelines: definition mistakes found before anything runs, and step failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


class StepRejectedError(PipelineError):
    """A step refused to let the pipeline go on: a gate (data validation, model blessing).

    Raise it from a step with the objects that explain the refusal as
    ``evidence`` (a validation report, an evaluation): they are stored as
    artifacts and recorded as outputs of the failed try, so lineage shows why
    the run stopped. A rejection is final: the step is not retried.

    Attributes:
        evidence: name -> object, as raised (emptied once stored by the worker).
        stored: name -> how the worker stored it (what crosses process boundaries).
    """

    error_code = "step_rejected"

    def __init__(self, message: str, *, evidence: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.evidence: dict[str, Any] = dict(evidence or {})
        self.stored: dict[str, Any] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take other arguments; rebuild any of them from what crosses over.
        return (_restore_rejection, (type(self), self.message, self.stored))


def _restore_rejection(
    cls: type[StepRejectedError], message: str, stored: dict[str, Any]
) -> StepRejectedError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.message = message
    error.evidence = {}
    error.stored = stored
    return error
