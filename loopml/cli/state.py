"""What the global options decide, and the error boundary of every command.

The root command stores a :class:`CliState` in the click context; commands
open the project's workspace through it. :class:`ErrorReportingGroup` turns
loopml errors into one red line and an exit code: 2 for the caller's
mistakes (:data:`loopml.core.errors.USER_ERRORS`), 1 for the rest.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from loopml.core.errors import USER_ERRORS, LoopMLError

if TYPE_CHECKING:
    from loopml.core.config import Settings
    from loopml.workspace import Workspace

USER_ERROR_EXIT = 2
ERROR_EXIT = 1


@dataclasses.dataclass(frozen=True)
class CliState:
    """Settings overrides given on the command line (``None`` means not given)."""

    project_dir: Path | None = None
    metadata_uri: str | None = None
    artifact_uri: str | None = None

    def settings(self) -> Settings:
        """Resolve the project's settings with these overrides on top."""
        from loopml.core.config import Settings

        return Settings.load(
            self.project_dir, metadata_uri=self.metadata_uri, artifact_uri=self.artifact_uri
        )


def get_state(ctx: typer.Context) -> CliState:
    """The state the root command stored, or defaults (when a command runs alone)."""
    state = ctx.find_object(CliState)
    return state if state is not None else CliState()


def command_prefix(ctx: typer.Context) -> str:
    """``loopml``, with the ``-C`` option the user gave, for the commands a command suggests.

    When ``loopml`` is not on the PATH (``make quickstart`` runs ``.venv/bin/loopml``
    without activating the environment), the suggestion names the script that ran.
    """
    import os
    import shutil
    import sys

    program = "loopml"
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) == "loopml" and shutil.which("loopml") is None:
        relative = os.path.relpath(script)
        program = script if relative.startswith("..") else relative
    project_dir = get_state(ctx).project_dir
    return f"{program} -C {project_dir}" if project_dir is not None else program


@contextlib.contextmanager
def open_workspace(ctx: typer.Context) -> Iterator[Workspace]:
    """Open the project's workspace for the length of a command, then close it."""
    from loopml.workspace import Workspace

    workspace = Workspace(get_state(ctx).settings())
    try:
        yield workspace
    finally:
        workspace.close()


def exit_code(error: LoopMLError) -> int:
    """The exit code of a loopml error: 2 for bad input, 1 otherwise."""
    return USER_ERROR_EXIT if isinstance(error, USER_ERRORS) else ERROR_EXIT


class ErrorReportingGroup(TyperGroup):
    """The root group: reports a :class:`LoopMLError` in one line instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LoopMLError as error:
            from loopml.cli.console import print_error

            print_error(error.message)
            raise typer.Exit(exit_code(error)) from error
