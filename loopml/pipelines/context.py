"""What a running step may know about itself: :func:`current_step`.

A step is a plain function; most need nothing but their arguments. Steps
that write to the stores themselves (packaging a model, registering it,
retrieving features) need the run's settings, the artifact ids of their
inputs and their own execution, to record lineage in the right place:
:func:`current_step` gives them, on whichever executor the step runs.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from loopml.pipelines.errors import PipelineError

if TYPE_CHECKING:
    from loopml.core.config import Settings
    from loopml.workspace import Workspace


@dataclasses.dataclass(frozen=True)
class StepContext:
    """One try of one step, as seen from inside it.

    Attributes:
        run_id: the pipeline run.
        step: the step's node name in the plan (``train_model_2``).
        attempt: 1 for the first try.
        execution_id: the execution recording this try (``None`` for dataset loads).
        inputs: argument name -> artifact id of each input that is a step output.
        settings: the run's settings (its stores).
    """

    run_id: str
    step: str
    attempt: int
    execution_id: str | None
    inputs: Mapping[str, str]
    settings: Settings

    def workspace(self) -> Workspace:
        """A workspace on the run's stores (not the process default, which may differ)."""
        from loopml.workspace import get_workspace

        return get_workspace(self.settings)


_current: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar(
    "loopml_step", default=None
)


def current_step() -> StepContext:
    """The step running in this thread.

    Raises:
        PipelineError: when called outside a step run by a pipeline.
    """
    context = _current.get()
    if context is None:
        raise PipelineError("current_step() is only available inside a step that a pipeline runs")
    return context


def step_workspace() -> Workspace | None:
    """The running step's workspace, or None outside a step (then use the default one).

    For functions that work both as steps and as plain calls.
    """
    context = _current.get()
    return None if context is None else context.workspace()


@contextmanager
def running(context: StepContext) -> Iterator[None]:
    """Make ``context`` the current step for the duration of the block."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)
