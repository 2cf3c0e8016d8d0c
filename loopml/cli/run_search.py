"""Finding tracked runs and pipeline runs together, for ``loopml runs list``.

Both are executions (of type ``run`` and ``pipeline``), so one query with
the user's filter, order and limit finds them; experiments and pipelines are
contexts, so ``--experiment`` and ``--pipeline`` narrow the search to theirs.
Pipeline runs whose orchestrator died are marked failed first, so that they
do not show as running for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from loopml.core.errors import NotFoundError

if TYPE_CHECKING:
    from loopml.metadata import Execution
    from loopml.workspace import Workspace


def find_runs(
    workspace: Workspace,
    *,
    kinds: Sequence[str],
    experiments: Sequence[str] = (),
    pipelines: Sequence[str] = (),
    filter: str = "",
    order_by: Sequence[str] = (),
    limit: int | None = 20,
) -> list[Execution]:
    """Runs of the given kinds matching a filter, newest first after ``order_by``.

    Args:
        workspace: the stores.
        kinds: execution types: ``run`` (tracked runs), ``pipeline`` or both.
        experiments: only runs of these experiments (with ``pipelines``: of either).
        pipelines: only runs of these pipelines.
        filter: the filter language of ``search_runs``.
        order_by: clauses such as ``metrics.auc DESC``.
        limit: the most runs to return.

    Raises:
        InvalidInputError: for a malformed filter or order clause.
        NotFoundError: for an unknown experiment or a pipeline that never ran.
    """
    from loopml.metadata import ContextType, filters

    if "pipeline" in kinds:
        from loopml.pipelines import fail_stale_runs

        fail_stale_runs(workspace)
    filters.parse_filter(filter)  # so that a mistake is reported where the user made it
    context_ids = None
    if experiments or pipelines:
        context_ids = [
            _context_id(workspace, ContextType.EXPERIMENT, "experiment", name)
            for name in experiments
        ]
        context_ids += [
            _context_id(workspace, ContextType.PIPELINE, "pipeline", name) for name in pipelines
        ]
    types = ", ".join(f"'{kind}'" for kind in kinds if kind.isidentifier())
    combined = f"type IN ({types})" + (f" and ({filter})" if filter.strip() else "")
    return workspace.metadata.search_executions(
        combined, context_ids=context_ids, order_by=list(order_by), limit=limit
    )


def _context_id(workspace: Workspace, type: str, what: str, name: str) -> str:
    context = workspace.metadata.find_context(type, name)
    if context is None:
        if what == "pipeline":
            raise NotFoundError(f"pipeline {name!r} has no runs")
        raise NotFoundError(f"no {what} named {name!r}")
    return context.id
