"""``loopml lineage``: the graph of artifacts and executions around one node, as a tree.

Upstream (the default) reads ``artifact <- execution that produced it <-
artifacts it consumed <- ...``; downstream reads the other way. A node
reached twice is drawn once; later mentions say so instead of repeating the
subtree.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Annotated

import typer

from loopml.cli import console
from loopml.cli.state import open_workspace

if TYPE_CHECKING:
    from rich.tree import Tree

    from loopml.metadata import Artifact, Execution, LineageGraph


def artifact_label(artifact: Artifact, role: str = "") -> str:
    """One line for an artifact: its role (the event name), id, short type, size, file name."""
    from rich.markup import escape

    name = artifact.properties.get("filename")
    extra = f"  {escape(str(name))}" if name else ""
    prefix = f"[yellow]{escape(role)}[/yellow]: " if role else ""
    kind = escape(console.short_type(artifact.type))
    return (
        f"{prefix}[cyan]artifact[/cyan] [bold]{artifact.id[:12]}[/bold]  "
        f"{kind}  [dim]{console.size(artifact.size)}[/dim]{extra}"
    )


def execution_label(execution: Execution, verb: str = "", role: str = "") -> str:
    """One line for an execution: how it relates to its parent node, type, name, id, status."""
    from rich.markup import escape

    prefix = f"[dim]{verb}[/dim] " if verb else ""
    suffix = f"  [dim]as[/dim] [yellow]{escape(role)}[/yellow]" if role else ""
    source = execution.properties.get("dataset_description")
    if isinstance(source, dict) and source.get("path"):
        # A step that read a catalog dataset: name the file it read.
        suffix += f"  {escape(str(source['path']).rstrip('/').rsplit('/', 1)[-1])}"
    kind, name = escape(execution.type), escape(execution.name)
    return (
        f"{prefix}[magenta]{kind}[/magenta] [bold]{name}[/bold]  "
        f"[dim]{execution.id[:8]}[/dim]  {console.status(execution.status)}{suffix}"
    )


MAX_REUSED_IDS = 3


class _TreeBuilder:
    """Draws a :class:`LineageGraph` from its root."""

    def __init__(self, graph: LineageGraph) -> None:
        self.graph = graph
        self.upstream = graph.direction == "upstream"
        # For each node, its neighbours in the walk's direction with the event name.
        self.next: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for event in graph.events:
            # Upstream, an artifact leads to its producer and an execution to its inputs;
            # downstream, an artifact leads to its consumers and an execution to its outputs.
            from_artifact = (event.kind == "output") == self.upstream
            if from_artifact:
                self.next[event.artifact_id].append((event.execution_id, event.name))
            else:
                self.next[event.execution_id].append((event.artifact_id, event.name))
        self.drawn: set[str] = set()

    def build(self) -> Tree:
        from rich.tree import Tree

        tree = Tree(self.label(self.graph.root_id, ""))
        self.drawn.add(self.graph.root_id)
        self.grow(tree, self.graph.root_id)
        return tree

    def label(self, node_id: str, event_name: str) -> str:
        if node_id in self.graph.artifacts:
            return artifact_label(self.graph.artifacts[node_id], event_name)
        execution = self.graph.executions.get(node_id)
        if execution is None:
            return f"[dim]execution {node_id[:8]} (not found)[/dim]"
        if not event_name:
            return execution_label(execution)
        verb = "produced by" if self.upstream else "consumed by"
        return execution_label(execution, verb, event_name)

    def grow(self, tree: Tree, node_id: str) -> None:
        children = sorted(self.next.get(node_id, []), key=lambda item: item[1])
        children, reused = self.split_cached(children)
        for child, event_name in children:
            label = self.label(child, event_name) + _reused_note(reused.get(child, []))
            if child in self.drawn:
                tree.add(label + "  [dim](shown above)[/dim]")
                continue
            self.drawn.add(child)
            self.grow(tree.add(label), child)

    def split_cached(
        self, children: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        """Fold cached steps into the sibling step that really ran, with the same role.

        A step served from cache records the same inputs again, so every cached
        rerun of a pipeline adds one more consumer of the same artifacts; drawn in
        full, each would repeat the subtree of the try that ran.

        Returns:
            The children to draw, and for each, the ids of the cached steps folded into it.
        """
        executions = self.graph.executions
        ran = {
            (executions[child].name, role): child
            for child, role in children
            if child in executions and executions[child].status != "cached"
        }
        kept: list[tuple[str, str]] = []
        reused: dict[str, list[str]] = defaultdict(list)
        for child, role in children:
            execution = executions.get(child)
            twin = ran.get((execution.name, role)) if execution is not None else None
            if execution is not None and execution.status == "cached" and twin is not None:
                reused[twin].append(child)
            else:
                kept.append((child, role))
        return kept, reused


def _reused_note(ids: list[str]) -> str:
    if not ids:
        return ""
    shown = ", ".join(execution_id[:8] for execution_id in ids[:MAX_REUSED_IDS])
    more = ", ..." if len(ids) > MAX_REUSED_IDS else ""
    return f"  [dim](reused by {console.plural(len(ids), 'cached step')}: {shown}{more})[/dim]"


def lineage_tree(graph: LineageGraph) -> Tree:
    """Render a lineage graph as a rich tree rooted at its start node."""
    return _TreeBuilder(graph).build()


def lineage(
    ctx: typer.Context,
    node_id: Annotated[
        str, typer.Argument(help="An artifact digest or an execution id (or a prefix).")
    ],
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream", "-d", help="Show what the node led to, not what it came from."
        ),
    ] = False,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=0, help="How many executions deep to go (all if omitted)."),
    ] = None,
) -> None:
    """Show where an artifact or execution came from (or, with --downstream, what it led to)."""
    from loopml.cli.ids import resolve_node

    with open_workspace(ctx) as workspace:
        _kind, full_id = resolve_node(workspace, node_id)
        graph = workspace.metadata.lineage(
            full_id, direction="downstream" if downstream else "upstream", depth=depth
        )
    output = console.out()
    output.print(lineage_tree(graph))
    output.print(
        f"[dim]{console.plural(len(graph.artifacts), 'artifact')}, "
        f"{console.plural(len(graph.executions), 'execution')}, "
        f"{console.plural(len(graph.events), 'event')} ({graph.direction})[/dim]"
    )
