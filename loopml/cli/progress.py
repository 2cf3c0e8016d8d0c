"""The live view of a pipeline run: one row per step, fed by the runner's observer.

The runner calls the observer from its orchestrator thread, and rich's
``Live`` redraws from a thread of its own; the two meet only inside
:class:`StepProgress`, under one lock. On a terminal the rows change in place
(running steps turn a spinner and count their seconds); anywhere else (a
pipe, CI logs, tests) every change is printed as one line, so logs read top
to bottom.

The console given to the view must write to a fixed file (``console.out()``
does): a step's output is captured by swapping ``sys.stdout``, and a console
that looked ``sys.stdout`` up on every write would send the redraws of the
live view into the step's logs.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from loopml.cli import console

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.spinner import Spinner

REFRESH_PER_SECOND = 8
DETAIL_LIMIT = 100

# state -> (mark, style, label)
STATES: dict[str, tuple[str, str, str]] = {
    "pending": ("·", "dim", "pending"),
    "running": ("", "yellow", "running"),
    "cached": ("↺", "cyan", "cached"),
    "done": ("✓", "green", "done"),
    "failed": ("✗", "red", "failed"),
    "retrying": ("↻", "yellow", "retrying"),
    "skipped": ("-", "dim", "skipped"),
}


@dataclasses.dataclass
class StepRow:
    """What the view knows of one step."""

    name: str
    state: str = "pending"
    attempt: int = 0
    started: float | None = None
    seconds: float | None = None
    detail: str = ""
    spinner: Spinner | None = None

    def elapsed(self, now: float) -> float | None:
        """Seconds the step took, or has been running for."""
        if self.state == "running" and self.started is not None:
            return now - self.started
        return self.seconds


def _one_line(text: object, limit: int = DETAIL_LIMIT) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class StepProgress:
    """An observer for :func:`loopml.pipelines.run` that draws the steps as they go.

    Use it as a context manager around the run, and pass it as ``observer``.

    Args:
        output: the console to draw on (one with a fixed file).
        title: what runs, e.g. ``pipeline training``.
        live: redraw in place; by default when ``output`` is a terminal.
    """

    def __init__(self, output: Console, title: str, *, live: bool | None = None) -> None:
        self.output = output
        self.title = title
        self.live = output.is_terminal if live is None else live
        self.started = time.monotonic()
        self._rows: dict[str, StepRow] = {}
        self._lock = threading.Lock()
        self._display: Live | None = None
        self._titled = False

    # --- what happened ---------------------------------------------------------------

    def rows(self) -> list[StepRow]:
        """A snapshot of the rows, in the order the steps were announced (the plan's)."""
        with self._lock:
            return [dataclasses.replace(row) for row in self._rows.values()]

    def counts(self) -> Counter[str]:
        """How many steps are in each state."""
        return Counter(row.state for row in self.rows())

    # --- the observer -----------------------------------------------------------------

    def __call__(self, node: str, state: str, info: Mapping[str, Any]) -> None:
        """Record a state change of ``node`` (called by the runner, from its thread)."""
        from rich.text import Text

        now = time.monotonic()
        with self._lock:
            row = self._rows.setdefault(node, StepRow(node))
            _apply(row, state, info, now)
            snapshot = dataclasses.replace(row)
        if self._display is not None:
            self._display.refresh()
        elif state != "pending":
            if not self._titled:  # not before: a run refused before it starts shows nothing
                self._titled = True
                self.output.print(Text(self.title, style="bold"))
            self.output.print(self._line(snapshot), soft_wrap=True)

    # --- drawing ----------------------------------------------------------------------

    def __enter__(self) -> StepProgress:
        if self.live:
            from rich.live import Live

            self._display = Live(
                self,
                console=self.output,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=False,
            )
            self._display.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        now = time.monotonic()
        rows = self.rows()
        if not rows:  # nothing announced yet, or the run was refused before it started
            return Text("")
        finished = sum(row.state in ("done", "cached") for row in rows)
        title = Text.assemble(
            (self.title, "bold"),
            (f"  {finished}/{len(rows)} steps  {console.duration(now - self.started)}", "dim"),
        )
        table = Table(box=None, show_header=False, pad_edge=False)
        table.add_column(width=1, no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        table.add_column(overflow="ellipsis", no_wrap=True)
        for row in rows:
            _mark, style, label = STATES.get(row.state, ("?", "white", row.state))
            elapsed = row.elapsed(now)
            table.add_row(
                self._mark(row),
                Text(row.name, style="bold" if row.state == "running" else ""),
                Text(label, style=style),
                "" if elapsed is None else console.duration(elapsed),
                Text(row.detail, style="dim"),
            )
        return Group(title, table)

    def _mark(self, row: StepRow) -> RenderableType:
        from rich.text import Text

        if row.state == "running" and row.spinner is not None:
            return row.spinner
        mark, style, _label = STATES.get(row.state, ("?", "white", row.state))
        return Text(mark, style=style)

    def _line(self, row: StepRow) -> Any:
        from rich.text import Text

        mark, style, label = STATES.get(row.state, ("?", "white", row.state))
        parts: list[tuple[str, str] | str] = [
            (mark or "▸", style),
            " ",
            (row.name, "bold"),
            "  ",
            (label, style),
        ]
        if row.state == "done" and row.seconds is not None:
            parts.append(f" in {console.duration(row.seconds)}")
        if row.detail:
            parts.append((f"  {row.detail}", "dim"))
        return Text.assemble(*parts)


def _apply(row: StepRow, state: str, info: Mapping[str, Any], now: float) -> None:
    """Update ``row`` for the runner's notification ``(state, info)``."""
    ran = row.elapsed(now)
    row.state = state
    row.detail = ""
    if state == "running":
        from rich.spinner import Spinner

        row.attempt = int(info.get("attempt") or row.attempt + 1)
        row.started = now
        row.seconds = None
        row.spinner = Spinner("dots", style="yellow")
        if row.attempt > 1:
            row.detail = f"try {row.attempt}"
    elif state == "done":
        seconds = info.get("seconds")
        row.seconds = float(seconds) if seconds is not None else ran
    elif state == "cached":
        source = str(info.get("cached_from") or "")
        row.detail = f"from {source[:8]}" if source else ""
    elif state == "retrying":
        row.seconds = ran
        delay = float(info.get("delay") or 0.0)
        row.detail = _one_line(
            f"try {info.get('attempt', row.attempt)} failed: {info.get('error', '')}; "
            f"again in {console.duration(delay)}"
        )
    elif state == "failed":
        row.seconds = ran
        row.detail = _one_line(info.get("error", ""))
    elif state == "skipped":
        row.detail = "an upstream step failed"
