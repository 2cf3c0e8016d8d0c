"""What a process runs: the code version (git commit and dirty flag) and the environment.

Captured once per process and folder: asking git costs a few milliseconds.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import sys
from typing import Any

# Packages whose versions decide how a model behaves; recorded when imported.
_WATCHED_PACKAGES = (
    "loopml",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "xgboost",
    "lightgbm",
    "torch",
    "onnxruntime",
    "duckdb",
)
_IMPORT_NAMES = {"scikit-learn": "sklearn"}


@dataclasses.dataclass(frozen=True)
class CodeVersion:
    """The git commit a process runs from, and whether the work tree had changes."""

    git_commit: str | None = None
    git_dirty: bool | None = None


@functools.cache
def code_version(folder: str | None = None) -> CodeVersion:
    """Return the code version of ``folder`` (the current folder if omitted).

    Outside a git work tree, or without git, both fields are ``None``.
    """
    cwd = folder or os.getcwd()
    import subprocess

    try:
        commit = _git(cwd, "rev-parse", "HEAD")
        dirty = bool(_git(cwd, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return CodeVersion()
    return CodeVersion(git_commit=commit or None, git_dirty=dirty if commit else None)


def _git(cwd: str, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
    )
    return done.stdout.strip()


def environment() -> dict[str, Any]:
    """Describe the interpreter, platform and versions of the imported ML packages."""
    packages: dict[str, str] = {}
    for name in _WATCHED_PACKAGES:
        if name != "loopml" and _IMPORT_NAMES.get(name, name) not in sys.modules:
            continue
        version = _package_version(name)
        if version:
            packages[name] = version
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
        "packages": packages,
    }


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide how models behave, imported or not."""
    found = {name: _package_version(name) for name in _WATCHED_PACKAGES}
    return {name: version for name, version in found.items() if version}


@functools.cache
def _package_version(name: str) -> str | None:
    from importlib import metadata as importlib_metadata

    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None
