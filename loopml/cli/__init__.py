"""The ``loopml`` command line: runs, artifacts, lineage, the metadata schema and the quickstart.

``loopml.cli.main:app`` is the typer application and :func:`main` the
console-script entry point. Commands import SQLAlchemy, pandas and
scikit-learn only when they run, so ``loopml --help`` answers at once. Bad
input (an unknown id, a malformed filter, a wrong setting) ends in one red
line on stderr and exit code 2; other loopml errors in exit code 1.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["app", "main"]

if TYPE_CHECKING:
    from loopml.cli.main import app, main


def __getattr__(name: str) -> Any:
    # Lazy, so that ``python -m loopml.cli.main`` does not import the module twice.
    if name in __all__:
        return getattr(importlib.import_module("loopml.cli.main"), name)
    raise AttributeError(f"module 'loopml.cli' has no attribute {name!r}")
