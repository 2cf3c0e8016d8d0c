"""Lineage walks: from an artifact or execution, upstream or downstream, to any depth.

The graph alternates artifacts and executions. A walk goes breadth-first, one
query per hop for a whole frontier, so its cost grows with the depth of the
graph, not with its width.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sqlalchemy as sa

from loopml.metadata import tables
from loopml.metadata.entities import Artifact, Event, EventKind, LineageGraph
from loopml.metadata.rows import artifact_from_row, event_from_row

__all__ = ["LineageGraph", "walk"]

_IN_CHUNK = 500


@dataclasses.dataclass(frozen=True)
class Walk:
    """What a walk reached: execution ids (loaded by the store), artifacts and events."""

    execution_ids: frozenset[str]
    artifacts: Mapping[str, Artifact]
    events: tuple[Event, ...]


def _events(db: sa.Connection, column: str, ids: set[str], kind: EventKind) -> list[Event]:
    ev = tables.events.c
    found: list[Event] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        query = sa.select(tables.events).where(ev[column].in_(chunk), ev.kind == kind.value)
        found.extend(event_from_row(row._mapping) for row in db.execute(query))
    return found


def walk(db: sa.Connection, root: str, *, direction: str, depth: int | None) -> Walk:
    """Walk the lineage graph from ``root`` (an execution id or an artifact digest).

    Upstream: an artifact leads to the executions that produced it, an
    execution to the artifacts it consumed. Downstream is the reverse.
    ``depth`` counts executions along a path.
    """
    upstream = direction == "upstream"
    root_is_execution = (
        db.execute(sa.select(tables.executions.c.id).where(tables.executions.c.id == root)).first()
        is not None
    )
    executions: set[str] = set()
    artifact_ids: set[str] = set()
    events: dict[tuple[str, str, str, str], Event] = {}
    frontier_artifacts: set[str] = set()
    frontier_executions: set[str] = set()
    if root_is_execution:
        executions.add(root)
        frontier_executions.add(root)
    else:
        artifact_ids.add(root)
        frontier_artifacts.add(root)
    hops = 1 if root_is_execution else 0
    while frontier_artifacts or frontier_executions:
        if frontier_artifacts:
            if depth is not None and hops >= depth:
                break
            kind = EventKind.OUTPUT if upstream else EventKind.INPUT
            found = _events(db, "artifact_id", frontier_artifacts, kind)
            frontier_artifacts = set()
            for event in found:
                events[(event.execution_id, event.artifact_id, event.kind, event.name)] = event
                if event.execution_id not in executions:
                    executions.add(event.execution_id)
                    frontier_executions.add(event.execution_id)
            hops += 1
        if frontier_executions:
            kind = EventKind.INPUT if upstream else EventKind.OUTPUT
            found = _events(db, "execution_id", frontier_executions, kind)
            frontier_executions = set()
            for event in found:
                events[(event.execution_id, event.artifact_id, event.kind, event.name)] = event
                if event.artifact_id not in artifact_ids:
                    artifact_ids.add(event.artifact_id)
                    frontier_artifacts.add(event.artifact_id)
    return Walk(
        execution_ids=frozenset(executions),
        artifacts=_load_artifacts(db, artifact_ids),
        events=tuple(
            sorted(events.values(), key=lambda e: (e.created_at, e.execution_id, e.kind, e.name))
        ),
    )


def _load_artifacts(db: sa.Connection, ids: set[str]) -> dict[str, Artifact]:
    a = tables.artifacts.c
    found: dict[str, Artifact] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        chunk = ordered[start : start + _IN_CHUNK]
        for row in db.execute(sa.select(tables.artifacts).where(a.id.in_(chunk))):
            artifact = artifact_from_row(row._mapping)
            found[artifact.id] = artifact
    return found
