"""The infrastructure check: load a package in a fresh Python process and predict on its
example, as the model server will.

Run as ``python -m loopml.models.infra FOLDER [--allow-pickle]``, the module
prints one result line (``LOOPML_INFRA_RESULT {json}``) and exits 0 if the
check passed. :func:`infra_check` runs it with a timeout and reads that line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopml.models.store import Source
    from loopml.workspace import Workspace

RESULT_PREFIX = "LOOPML_INFRA_RESULT "
_STDERR_TAIL = 2000


@dataclasses.dataclass(frozen=True)
class InfraCheck:
    """The outcome of an infrastructure check.

    Attributes:
        passed: the package loaded in a fresh process and predicted on its example
            within the time limit, with output matching its signature.
        seconds: wall time of the whole check, process start included.
        error: why it failed (``None`` if it passed).
        rows: the number of example rows predicted.
        python: the Python version of the process that ran the check.
    """

    passed: bool
    seconds: float
    error: str | None
    rows: int
    python: str

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain data."""
        return dataclasses.asdict(self)


def infra_check(
    source: Source,
    *,
    timeout: float = 60.0,
    allow_pickle: bool = False,
    workspace: Workspace | None = None,
) -> InfraCheck:
    """Load the package in a fresh Python process and exercise its signature on its example.

    A crash, a timeout, a load or predict error, or predictions not matching the
    signature give ``passed=False`` with the reason; they never raise.

    Args:
        source: a package folder or a model artifact id.
        timeout: seconds before the process is killed and the check fails.
        allow_pickle: let the process load a ``pickle`` package.
        workspace: where artifact ids are looked up.

    Raises:
        NotFoundError: if ``source`` is neither a folder nor a known artifact.
    """
    from loopml.models.store import resolve_source

    folder, _ = resolve_source(source, workspace=workspace)
    command = [sys.executable, "-P", "-m", "loopml.models.infra", str(folder.resolve())]
    if allow_pickle:
        command.append("--allow-pickle")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_child_env(), check=False
        )
    except subprocess.TimeoutExpired:
        return _failed(start, f"the check did not finish within {timeout:g} s")
    seconds = time.perf_counter() - start
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return _parse(line[len(RESULT_PREFIX) :], seconds)
    tail = done.stderr.strip()[-_STDERR_TAIL:]
    return _failed(start, f"the check process exited with code {done.returncode}: {tail}")


def _parse(text: str, seconds: float) -> InfraCheck:
    try:
        result = json.loads(text)
        return InfraCheck(
            passed=result["passed"] is True,
            seconds=seconds,
            error=None if result["error"] is None else str(result["error"]),
            rows=int(result["rows"]),
            python=str(result["python"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        return InfraCheck(False, seconds, f"unreadable check result: {exc}", 0, "")


def _failed(start: float, error: str) -> InfraCheck:
    return InfraCheck(
        passed=False,
        seconds=time.perf_counter() - start,
        error=error,
        rows=0,
        python=platform.python_version(),
    )


def _child_env() -> dict[str, str]:
    """The parent's environment, with this loopml first on the path (``-P`` keeps the
    working folder off it)."""
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds loopml/
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def run(folder: str, *, allow_pickle: bool) -> dict[str, Any]:
    """Load the package in ``folder``, check its example and predict on it (in this process).

    Returns:
        ``passed``, ``error``, ``rows`` and ``python``.
    """
    from loopml.models.store import load_model

    rows = 0
    try:
        model = load_model(folder, allow_pickle=allow_pickle)
        example = model.example()
        predictions = model.predict(example)
        rows = len(predictions)
        if rows != len(example):
            raise ValueError(f"{rows} predictions for {len(example)} rows")
        model.signature.check_outputs(predictions)
        if model.manifest.task == "classification":
            _check_probabilities(model.predict_proba(example), len(model.manifest.classes or ()))
    except Exception as exc:  # the check reports every failure, whatever raised it
        return _result(False, f"{type(exc).__name__}: {exc}", rows)
    return _result(True, None, rows)


def _check_probabilities(probabilities: Any, classes: int) -> None:
    import numpy as np

    if probabilities.ndim != 2 or probabilities.shape[1] != classes:
        raise ValueError(f"predict_proba gives shape {probabilities.shape}; {classes} classes")
    if not np.isfinite(probabilities).all():
        raise ValueError("predict_proba gives values that are not finite")


def _result(passed: bool, error: str | None, rows: int) -> dict[str, Any]:
    return {"passed": passed, "error": error, "rows": rows, "python": platform.python_version()}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m loopml.models.infra``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m loopml.models.infra")
    parser.add_argument("folder")
    parser.add_argument("--allow-pickle", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.folder, allow_pickle=args.allow_pickle)
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
