"""Cache keys of step runs, and the fingerprint of a step's code.

A key hashes everything that decides a step's outputs: the code of its
function and of the project functions it calls (transitively; library code is
covered by the installed versions of the ML packages instead), its parameters,
the digests of its input artifacts, the versions of the materializers that load
them, and loopml's version. Outputs written by an older version of their
materializer are not reused. Equal inputs give equal keys in any process and
under any ``PYTHONHASHSEED``; a change to any of them gives another key.
"""

from __future__ import annotations

import functools
import inspect
import sys
import sysconfig
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from loopml.core.hashing import sha256_bytes, stable_hash

CACHE_KEY_VERSION = 1


@functools.cache
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.add(sys.prefix)
    roots.add(sys.base_prefix)
    return tuple(sorted(str(Path(root).resolve()) for root in roots))


def _is_project_code(obj: Any) -> bool:
    module = sys.modules.get(getattr(obj, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    if file is None:
        return getattr(obj, "__module__", "") == "__main__"
    resolved = str(Path(file).resolve())
    package = (getattr(obj, "__module__", "") or "").split(".")[0]
    if package == "loopml":
        return False  # loopml's own code is keyed by its version
    return not any(resolved.startswith(root + "/") or resolved == root for root in _library_roots())


_source_hashes: dict[types.CodeType, str] = {}


def _code_hash(obj: Any) -> str:
    """sha256 of an object's source; memoised per code object (a redefinition is a new one)."""
    code = getattr(obj, "__code__", None)
    if code is None:
        return sha256_bytes(_code_text(obj).encode())
    found = _source_hashes.get(code)
    if found is None:
        found = _source_hashes[code] = sha256_bytes(_code_text(obj).encode())
    return found


def _code_text(obj: Any) -> str:
    try:
        return str(inspect.getsource(obj))
    except (OSError, TypeError):
        code: types.CodeType | None = getattr(obj, "__code__", None)
        if code is None:
            return repr(obj)
        return code.co_code.hex() + repr(code.co_consts)


def _referenced(fn: Callable[..., Any]) -> list[Any]:
    """Project functions and classes that ``fn``'s code names (globals and closures)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    names: set[str] = set()
    stack: list[types.CodeType] = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    scope = dict(getattr(fn, "__globals__", {}))
    for cell_name, cell in zip(
        code.co_freevars, getattr(fn, "__closure__", None) or (), strict=False
    ):
        try:
            scope[cell_name] = cell.cell_contents
            names.add(cell_name)
        except ValueError:
            continue
    found = []
    for name in sorted(names):
        value = scope.get(name)
        value = getattr(value, "fn", value)  # a Step: its function
        if isinstance(value, (types.FunctionType, type)) and _is_project_code(value):
            found.append(value)
    return found


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """Hash the source of ``fn`` and of the project code it calls, transitively."""
    seen: dict[str, str] = {}
    pending: list[Any] = [fn]
    while pending:
        current = pending.pop()
        qualname = getattr(current, "__qualname__", repr(current))
        key = f"{getattr(current, '__module__', '?')}:{qualname}"
        if key in seen:
            continue
        seen[key] = _code_hash(current)
        if isinstance(current, types.FunctionType):
            pending.extend(_referenced(current))
        elif isinstance(current, type):
            for member in vars(current).values():
                if isinstance(member, types.FunctionType):
                    pending.extend(_referenced(member))
    return stable_hash(seen)


def cache_key(
    *,
    code: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, str],
    materializers: Mapping[str, Any],
    loopml_version: str,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The cache key of one step run.

    Args:
        code: the step's :func:`code_fingerprint`.
        params: its parameter values (JSON-able).
        inputs: argument name -> digest of the input artifact.
        materializers: name -> version of the materializers that load the inputs
            (outputs are checked against today's versions when a cache entry is used).
        loopml_version: the running loopml's version.
        extra: anything else that decides the outputs (a dataset's fingerprint).
    """
    return stable_hash(
        {
            "v": CACHE_KEY_VERSION,
            "code": code,
            "params": dict(params),
            "inputs": dict(inputs),
            "materializers": dict(materializers),
            "loopml": loopml_version,
            "extra": dict(extra or {}),
        }
    )
