"""Turning what a user types (a full id or a prefix of one) into a stored id.

Run and execution ids are 32 hex characters, artifact ids 64; the CLI shows
their first 8 or 12, so every command accepts a unique prefix of at least
:data:`MIN_PREFIX` characters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from loopml.core.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from loopml.metadata import Execution
    from loopml.workspace import Workspace

MIN_PREFIX = 6
EXECUTION_ID_LENGTH = 32
_HEX = frozenset("0123456789abcdef")

NodeKind = Literal["artifact", "execution"]


def normalise(text: str, what: str) -> str:
    """Lowercase and check an id or prefix.

    Raises:
        InvalidInputError: if it is not hex or shorter than :data:`MIN_PREFIX`.
    """
    value = text.strip().lower()
    if len(value) < MIN_PREFIX or not set(value) <= _HEX:
        raise InvalidInputError(
            f"{text!r} is not a valid {what} id (hex, {MIN_PREFIX} characters or more)"
        )
    return value


def _executions_with_prefix(workspace: Workspace, prefix: str, type: str | None) -> list[Execution]:
    if len(prefix) == EXECUTION_ID_LENGTH:
        found = workspace.metadata.search_executions(f"id = '{prefix}'", type=type, limit=1)
    else:
        found = workspace.metadata.search_executions(f"id LIKE '{prefix}%'", type=type, limit=2)
    return found


def resolve_run(workspace: Workspace, text: str) -> Execution:
    """Return the run whose id is ``text`` or starts with it.

    Raises:
        InvalidInputError: if ``text`` is not an id or the prefix is ambiguous.
        NotFoundError: if no run matches.
    """
    from loopml.tracking import get_run
    from loopml.tracking.runs import RUN_TYPE

    prefix = normalise(text, "run")
    found = _executions_with_prefix(workspace, prefix, RUN_TYPE)
    if not found:
        raise NotFoundError(f"no run with id {text.strip()!r}")
    if len(found) > 1:
        raise InvalidInputError(
            f"run id prefix {text.strip()!r} is ambiguous: give more characters"
        )
    return get_run(found[0].id, workspace=workspace)


KIND_NAMES = {"run": "tracked run", "pipeline": "pipeline run", "step": "pipeline step"}


def resolve_execution(
    workspace: Workspace, text: str, kinds: Sequence[str], what: str | None = None
) -> Execution:
    """Return the execution of one of ``kinds`` whose id is ``text`` or starts with it.

    Args:
        workspace: the stores.
        text: an id or a prefix of one.
        kinds: execution types to look among (``run``, ``pipeline``, ``step``).
        what: what to call them in messages (the kinds' names if omitted).

    Raises:
        InvalidInputError: if ``text`` is not an id or the prefix is ambiguous.
        NotFoundError: if no execution of those kinds matches (saying what the id is, if
            it names an execution of another kind).
    """
    wanted = what or " or ".join(KIND_NAMES.get(kind, kind) for kind in kinds)
    prefix = normalise(text, wanted)
    kinds_sql = ", ".join(f"'{kind}'" for kind in kinds if kind.isidentifier())
    condition = f"id = '{prefix}'" if len(prefix) == EXECUTION_ID_LENGTH else f"id LIKE '{prefix}%'"
    found = workspace.metadata.search_executions(f"{condition} and type IN ({kinds_sql})", limit=2)
    if len(found) > 1:
        raise InvalidInputError(f"id prefix {text.strip()!r} is ambiguous: give more characters")
    if found:
        return found[0]
    others = _executions_with_prefix(workspace, prefix, None)
    if len(others) == 1:
        other = others[0]
        kind = KIND_NAMES.get(other.type, f"{other.type} execution")
        hint = (
            f" of pipeline run {other.parent_id[:8]}"
            if other.type == "step" and other.parent_id
            else ""
        )
        raise NotFoundError(f"{text.strip()} is a {kind}{hint}, not a {wanted}")
    raise NotFoundError(f"no {wanted} with id {text.strip()!r}")


def resolve_node(workspace: Workspace, text: str) -> tuple[NodeKind, str]:
    """Tell whether ``text`` names an execution or an artifact, and return its full id.

    Raises:
        InvalidInputError: if ``text`` is not an id or matches more than one node.
        NotFoundError: if nothing matches.
    """
    prefix = normalise(text, "execution or artifact")
    executions = (
        _executions_with_prefix(workspace, prefix, None)
        if len(prefix) <= EXECUTION_ID_LENGTH
        else []
    )
    artifact_id: str | None = None
    with contextlib.suppress(NotFoundError):
        artifact_id = workspace.metadata.get_artifact(prefix).id
    matches = len(executions) + (artifact_id is not None)
    if matches == 0:
        raise NotFoundError(f"no execution or artifact with id {text.strip()!r}")
    if matches > 1:
        raise InvalidInputError(f"id prefix {text.strip()!r} is ambiguous: give more characters")
    if artifact_id is not None:
        return "artifact", artifact_id
    return "execution", executions[0].id
