"""The compiled form of a pipeline: a pure, topologically sorted DAG of step nodes.

A plan is data: it names each node's step (by import path), the parameters it
gets and where each input comes from (another node's output, or a catalog
dataset). It renders as a text graph for ``loopml pipelines show`` and as a
dict for the UI, and it is what the runner executes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from loopml.pipelines.errors import PipelineDefinitionError


@dataclasses.dataclass(frozen=True)
class OutputRef:
    """An output of a node: what a downstream node consumes."""

    node: str
    output: str

    def __repr__(self) -> str:
        return f"{self.node}.{self.output}"


@dataclasses.dataclass(frozen=True)
class Node:
    """One step call in a plan.

    Attributes:
        name: unique in the plan (namespaced as ``sub.step`` for composed pipelines).
        step: the step object (its function and settings).
        inputs: argument name -> the output it reads.
        params: argument name -> a JSON-able value.
        outputs: names of the step's outputs.
    """

    name: str
    step: Any
    inputs: Mapping[str, OutputRef]
    params: Mapping[str, Any]
    outputs: tuple[str, ...]

    @property
    def upstream(self) -> set[str]:
        """Names of the nodes this node reads from."""
        return {ref.node for ref in self.inputs.values()}

    @property
    def function(self) -> str:
        """``module:qualname`` of the step's function."""
        fn = self.step.fn
        return f"{fn.__module__}:{fn.__qualname__}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """A validated DAG of nodes in a topological order (ties broken by definition order)."""

    name: str
    nodes: Mapping[str, Node]
    order: tuple[str, ...]
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def build(cls, name: str, nodes: list[Node], params: Mapping[str, Any] | None = None) -> Plan:
        """Check the nodes (unique names, known inputs, no cycle) and sort them.

        Raises:
            PipelineDefinitionError: naming the node and what is wrong.
        """
        by_name: dict[str, Node] = {}
        for node in nodes:
            if node.name in by_name:
                raise PipelineDefinitionError(
                    f"pipeline {name!r} has two steps named {node.name!r}: "
                    "give one another name with step.with_options(name=...)"
                )
            by_name[node.name] = node
        for node in nodes:
            for arg, ref in node.inputs.items():
                source = by_name.get(ref.node)
                if source is None:
                    raise PipelineDefinitionError(
                        f"step {node.name!r} input {arg!r} reads {ref!r}, but no step {ref.node!r} "
                        f"is in pipeline {name!r}"
                    )
                if ref.output not in source.outputs:
                    raise PipelineDefinitionError(
                        f"step {node.name!r} input {arg!r} reads output {ref.output!r} of "
                        f"{ref.node!r}, which has outputs {list(source.outputs)}"
                    )
        return cls(
            name=name, nodes=by_name, order=_topological(name, nodes), params=dict(params or {})
        )

    def __iter__(self) -> Iterator[Node]:
        return (self.nodes[name] for name in self.order)

    def __len__(self) -> int:
        return len(self.order)

    def downstream(self, node: str) -> set[str]:
        """Every node that depends on ``node``, directly or not."""
        found: set[str] = set()
        frontier = {node}
        while frontier:
            nxt = {n.name for n in self.nodes.values() if n.upstream & frontier} - found
            found |= nxt
            frontier = nxt
        return found

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-able data (for the UI and the run record)."""
        return {
            "name": self.name,
            "params": dict(self.params),
            "nodes": [
                {
                    "name": node.name,
                    "function": node.function,
                    "inputs": {arg: repr(ref) for arg, ref in node.inputs.items()},
                    "params": dict(node.params),
                    "outputs": list(node.outputs),
                    "upstream": sorted(node.upstream),
                    "settings": {
                        "retries": node.step.settings.retries,
                        "timeout": node.step.settings.timeout,
                        "cache": node.step.settings.cache,
                        "resources": dict(node.step.settings.resources),
                    },
                }
                for node in self
            ],
        }

    def render(self) -> str:
        """A text graph: one line per node in order, with what it reads."""
        lines = [f"pipeline {self.name} ({len(self)} steps)"]
        width = len(str(len(self)))
        for index, node in enumerate(self, start=1):
            reads = ", ".join(f"{arg}={ref!r}" for arg, ref in node.inputs.items())
            params = ", ".join(f"{k}={v!r}" for k, v in node.params.items())
            args = "; ".join(part for part in (reads, params) if part)
            outs = ", ".join(node.outputs)
            lines.append(f"{index:>{width}}. {node.name}({args}) -> {outs}")
        return "\n".join(lines)


def _topological(name: str, nodes: list[Node]) -> tuple[str, ...]:
    position = {node.name: index for index, node in enumerate(nodes)}
    waiting = {node.name: set(node.upstream) for node in nodes}
    order: list[str] = []
    ready = sorted((n for n, deps in waiting.items() if not deps), key=position.__getitem__)
    while ready:
        current = ready.pop(0)
        order.append(current)
        del waiting[current]
        freed = [n for n, deps in waiting.items() if current in deps]
        for n in freed:
            waiting[n].discard(current)
        ready = sorted({*ready, *(n for n in freed if not waiting[n])}, key=position.__getitem__)
    if waiting:
        cycle = " -> ".join(sorted(waiting))
        raise PipelineDefinitionError(f"pipeline {name!r} has a cycle among steps: {cycle}")
    return tuple(order)
