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
    name = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    module = sys.modules.get(name or "")
    file = getattr(module, "__file__", None)
    if file is None:
        return name == "__main__"
    resolved = str(Path(file).resolve())
    package = (name or "").split(".")[0]
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


_CONSTANT_TYPES = (int, float, str, bool, type(None), tuple, list, dict, frozenset, set)


def _referenced(fn: Callable[..., Any]) -> tuple[list[Any], dict[str, str]]:
    """What ``fn``'s code names: project code to follow, and values to hash.

    Returns project functions, classes and modules (followed transitively), and
    for the rest: JSON-able global constants and closure values by their content,
    library code by the version of the distribution that installed it.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return [], {}
    names: set[str] = set()
    stack: list[types.CodeType] = [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    scope = dict(getattr(fn, "__globals__", {}))
    cells = zip(code.co_freevars, getattr(fn, "__closure__", None) or (), strict=False)
    for cell_name, cell in cells:
        try:
            scope[cell_name] = cell.cell_contents
            names.add(cell_name)
        except ValueError:
            continue
    follow: list[Any] = []
    values: dict[str, str] = {}
    for name in sorted(names):
        if name not in scope:
            continue
        value = scope[name]
        value = getattr(value, "fn", value)  # a Step: its function
        if isinstance(value, (types.FunctionType, type, types.ModuleType)):
            if _is_project_code(value):
                follow.append(value)
            elif (version := _distribution_version(value)) is not None:
                values[f"package:{version[0]}"] = version[1]
        elif isinstance(value, _CONSTANT_TYPES):
            try:
                values[f"value:{name}"] = stable_hash(value)
            except (TypeError, ValueError):
                values[f"value:{name}"] = f"unhashable {type(value).__qualname__}"
    return follow, values


@functools.cache
def _distributions() -> dict[str, list[str]]:
    from importlib import metadata

    return dict(metadata.packages_distributions())


def _distribution_version(obj: Any) -> tuple[str, str] | None:
    """(distribution, version) of the installed package ``obj`` comes from, if any."""
    from importlib import metadata

    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    top = (module or "").split(".")[0]
    for distribution in _distributions().get(top, []):
        try:
            return distribution, metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def _module_hash(module: types.ModuleType) -> str:
    file = getattr(module, "__file__", None)
    if file is None:
        return module.__name__
    try:
        return sha256_bytes(Path(file).read_bytes())
    except OSError:
        return module.__name__


def code_fingerprint(fn: Callable[..., Any]) -> str:
    """Hash the source of ``fn`` and of the project code it reaches, transitively.

    Reached are the functions, classes and modules its code names (a module
    referenced as ``helpers.f`` counts with its whole source file); constants it
    reads are hashed by value, and library code by its installed version.
    """
    seen: dict[str, str] = {}
    pending: list[Any] = [fn]
    while pending:
        current = pending.pop()
        if isinstance(current, types.ModuleType):
            key = f"module:{current.__name__}"
            if key not in seen:
                seen[key] = _module_hash(current)
            continue
        qualname = getattr(current, "__qualname__", repr(current))
        key = f"{getattr(current, '__module__', '?')}:{qualname}"
        if key in seen:
            continue
        seen[key] = _code_hash(current)
        members = [current]
        if isinstance(current, type):
            members = [m for m in vars(current).values() if isinstance(m, types.FunctionType)]
        for member in members:
            if isinstance(member, types.FunctionType):
                follow, values = _referenced(member)
                pending.extend(follow)
                seen.update({f"{key}|{name}": value for name, value in values.items()})
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
