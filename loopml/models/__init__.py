"""Model packages: one safe, self-describing format for every model loopml trains or serves.

A model package is a folder: ``loopml-model.yaml`` (the :class:`ModelManifest`:
flavor, :class:`Signature`, task, classes, requirements, metrics, params,
:class:`Lineage`), the model file in its flavor's native format (scikit-learn
via skops, XGBoost UBJSON, LightGBM text, ONNX; ``pickle`` only on opt-in),
``example.parquet`` and ``requirements.txt``. :func:`save_model` writes one
(equal inputs, equal bytes), :func:`log_model` stores one in the workspace as
a ``loopml.model`` artifact, :func:`load_model` reads one from a folder or an
artifact id and never executes code from it unless ``allow_pickle=True``;
:func:`infra_check` loads one in a fresh process and predicts on its example,
as the model server will. Flavors are :class:`Flavor` classes in one registry
(:func:`register_flavor`, :func:`flavors`). Importing this package imports no
machine-learning library.
"""

from __future__ import annotations

from loopml.models.errors import ModelPackageError, SignatureError
from loopml.models.flavors import Flavor, flavor_for, flavors, get_flavor, register_flavor
from loopml.models.infra import InfraCheck, infra_check
from loopml.models.manifest import (
    EXAMPLE_FILE,
    FORMAT_VERSION,
    MANIFEST_FILE,
    REQUIREMENTS_FILE,
    TASKS,
    Lineage,
    ModelManifest,
)
from loopml.models.package import LoadedModel, read_package, save_model
from loopml.models.signature import LOGICAL_TYPES, ColumnSpec, Signature
from loopml.models.store import ARTIFACT_TYPE, export_model, load_model, log_model

__all__ = [
    "ARTIFACT_TYPE",
    "EXAMPLE_FILE",
    "FORMAT_VERSION",
    "LOGICAL_TYPES",
    "MANIFEST_FILE",
    "REQUIREMENTS_FILE",
    "TASKS",
    "ColumnSpec",
    "Flavor",
    "InfraCheck",
    "Lineage",
    "LoadedModel",
    "ModelManifest",
    "ModelPackageError",
    "Signature",
    "SignatureError",
    "export_model",
    "flavor_for",
    "flavors",
    "get_flavor",
    "infra_check",
    "load_model",
    "log_model",
    "read_package",
    "register_flavor",
    "save_model",
]
