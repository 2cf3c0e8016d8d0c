"""Read feature definitions from a Python module or a YAML file.

A Python file defines entities, views, on-demand views and services at
module level (or one :class:`Definitions` object); every such object found is
collected. On-demand functions defined in it are referred to as
``<file stem>:<function>``, so the project folder is put on ``sys.path``. A
YAML file holds the dict form described in :mod:`loopml.features.serialize`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from loopml.features.definitions import (
    Definitions,
    Entity,
    FeatureService,
    FeatureView,
    OnDemandFeatureView,
)
from loopml.features.errors import FeatureDefinitionError, FeatureNotFoundError
from loopml.features.serialize import definitions_from_dict

SUFFIXES = (".py", ".yaml", ".yml")


def load_definitions(path: str | os.PathLike[str]) -> Definitions:
    """Read the definitions in a ``.py``, ``.yaml`` or ``.yml`` file.

    Raises:
        FeatureNotFoundError: if there is no such file.
        FeatureDefinitionError: if it cannot be read or its definitions are wrong.
    """
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise FeatureNotFoundError(f"no feature definitions file at {str(file)!r}")
    if file.suffix not in SUFFIXES:
        raise FeatureDefinitionError(f"{file.name}: definitions are a .py or .yaml file")
    if file.suffix == ".py":
        return _from_module(_import_file(file), file.name)
    import yaml

    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise FeatureDefinitionError(f"{file.name} is not valid YAML: {exc}") from exc
    return definitions_from_dict(data)


def _import_file(file: Path) -> Any:
    folder = str(file.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(file.stem, file)
    if spec is None or spec.loader is None:
        raise FeatureDefinitionError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[file.stem] = module
    try:
        spec.loader.exec_module(module)
    except FeatureDefinitionError:
        raise
    except Exception as exc:  # the user's module may raise anything while importing
        sys.modules.pop(file.stem, None)
        raise FeatureDefinitionError(
            f"cannot import {file.name}: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _from_module(module: Any, name: str) -> Definitions:
    values = [v for k, v in vars(module).items() if not k.startswith("_")]
    bundles = [v for v in values if isinstance(v, Definitions)]
    if len(bundles) > 1:
        raise FeatureDefinitionError(f"{name} defines {len(bundles)} Definitions: keep one")
    if bundles:
        return bundles[0]
    found = Definitions(
        entities=tuple(v for v in values if isinstance(v, Entity)),
        views=tuple(v for v in values if isinstance(v, FeatureView)),
        on_demand=tuple(v for v in values if isinstance(v, OnDemandFeatureView)),
        services=tuple(v for v in values if isinstance(v, FeatureService)),
    )
    if not (found.entities or found.views):
        raise FeatureDefinitionError(f"{name} defines no entity and no feature view")
    return found
