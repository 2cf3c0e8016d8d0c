"""Printing for the CLI: the two rich consoles and how values are shown.

Consoles are made per call, not at import, so that ``loopml --help`` does not
import rich's rendering machinery and tests that swap ``sys.stdout`` see the
output. Errors go to stderr as one red line.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

STATUS_STYLES = {
    "completed": "green",
    "failed": "red",
    "running": "yellow",
    "killed": "magenta",
    "cached": "cyan",
}
MISSING = "—"


def out() -> Console:
    """A console on the current stdout.

    The file is fixed when the console is made: a pipeline step's output is
    captured by swapping ``sys.stdout`` for a while, and what the console draws
    meanwhile (a live progress view) must not land in the step's logs.
    """
    import sys

    from rich.console import Console

    return Console(file=sys.stdout, highlight=False)


def err() -> Console:
    """A console on the current stderr (its file fixed, as for :func:`out`)."""
    import sys

    from rich.console import Console

    return Console(file=sys.stderr, stderr=True, highlight=False)


def print_error(message: str) -> None:
    """Print ``message`` as one red line on stderr."""
    from rich.text import Text

    line = " ".join(str(message).split())
    err().print(Text.assemble(("error: ", "bold red"), (line, "red")), soft_wrap=True)


def status(value: str) -> str:
    """A run status with its colour, as rich markup."""
    style = STATUS_STYLES.get(str(value), "white")
    return f"[{style}]{value}[/{style}]"


def when(moment: datetime | None) -> str:
    """A UTC datetime shown in local time, to the second."""
    if moment is None:
        return MISSING
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def when_short(moment: datetime | None) -> str:
    """A UTC datetime in local time: the time alone if it is today, else date and minutes."""
    if moment is None:
        return MISSING
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def short_type(type_name: str) -> str:
    """The last part of a dotted type name (``DataFrame`` for ``pandas.DataFrame``)."""
    return type_name.rsplit(".", 1)[-1]


def plural(count: int, noun: str) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def duration(seconds: float | None) -> str:
    """Seconds shown as ``0.42s``, ``12.3s``, ``4m 05s`` or ``2h 03m``."""
    if seconds is None or math.isnan(seconds):
        return MISSING
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def size(count: int | None) -> str:
    """A byte count shown with a binary unit."""
    if count is None:
        return MISSING
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover - the loop always returns


def number(value: float | None, digits: int = 6) -> str:
    """A metric value with ``digits`` significant digits; whole numbers in full."""
    if value is None:
        return MISSING
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}"


def plain(value: Any) -> str:
    """A property value: text as it is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
