"""Lineage walks agree with brute-force reachability on random graphs."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopml.metadata import SqlMetadataStore


def _digest(i: int) -> str:
    return f"{i:064x}"


graphs = st.lists(
    st.tuples(st.sets(st.integers(0, 7), max_size=3), st.sets(st.integers(0, 7), max_size=2)),
    min_size=1,
    max_size=6,
)


def _reachable(steps: list[tuple[set[int], set[int]]], start: int) -> tuple[set[int], set[int]]:
    artifacts, executions = {start}, set()
    changed = True
    while changed:
        changed = False
        for index, (inputs, outputs) in enumerate(steps):
            if index not in executions and outputs & artifacts:
                executions.add(index)
                artifacts |= inputs
                changed = True
    return artifacts, executions


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=graphs, start=st.integers(0, 7))
def test_upstream_walk_equals_brute_force(
    sqlite_uri: str, steps: list[tuple[set[int], set[int]]], start: int
) -> None:
    store = SqlMetadataStore(sqlite_uri.replace("metadata.db", f"{uuid.uuid4().hex}.db"))
    for i in range(8):
        store.put_artifact(_digest(i), "u", 1, "bytes")
    ids = []
    for index, (inputs, outputs) in enumerate(steps):
        execution = store.create_execution("step", f"s{index}")
        ids.append(execution.id)
        store.add_events(
            execution.id,
            inputs={f"in{i}": _digest(i) for i in inputs},
            outputs={f"out{i}": _digest(i) for i in outputs},
        )
    graph = store.lineage(_digest(start))
    artifacts, executions = _reachable(steps, start)
    assert set(graph.artifacts) == {_digest(i) for i in artifacts}
    assert set(graph.executions) == {ids[i] for i in executions}
    store.close()
