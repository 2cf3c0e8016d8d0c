"""The model server: one process serving registered models over three protocols.

:func:`create_app` builds a FastAPI app serving :class:`Deployment` objects (a
model reference followed in the registry, with canary, A/B and shadow rules
from a :class:`DeploymentSpec`, :func:`load_deployments` reads them from
YAML) over the native JSON protocol, the Open Inference Protocol v2 (JSON
and binary tensors) and MLflow's ``/invocations``. Requests are validated
against the model's signature, micro-batched per version, logged to Parquet
segments in the background; a moved alias is hot-swapped without dropping a
request. :func:`serve` runs it with uvicorn; :func:`run_server_in_thread`
runs it in a thread for tests and benchmarks. FastAPI and pandas load only
when these are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loopml.serving.errors import (
    ModelNotReadyError,
    OverloadedError,
    PayloadTooLargeError,
    PredictionError,
    RequestTimeoutError,
    ServingError,
    UnauthorizedError,
    UnsafeBindError,
)
from loopml.serving.spec import (
    ABSpec,
    CanarySpec,
    DeploymentSpec,
    FeatureSpec,
    ServingOptions,
    ShadowSpec,
    load_deployments,
)

if TYPE_CHECKING:
    from loopml.serving.app import create_app
    from loopml.serving.deployment import Deployment
    from loopml.serving.requestlog import read_log
    from loopml.serving.runner import run_server_in_thread, serve

__all__ = [
    "ABSpec",
    "CanarySpec",
    "Deployment",
    "DeploymentSpec",
    "FeatureSpec",
    "ModelNotReadyError",
    "OverloadedError",
    "PayloadTooLargeError",
    "PredictionError",
    "RequestTimeoutError",
    "ServingError",
    "ServingOptions",
    "ShadowSpec",
    "UnauthorizedError",
    "UnsafeBindError",
    "create_app",
    "load_deployments",
    "read_log",
    "run_server_in_thread",
    "serve",
]

_LAZY = {
    "create_app": "loopml.serving.app",
    "Deployment": "loopml.serving.deployment",
    "read_log": "loopml.serving.requestlog",
    "run_server_in_thread": "loopml.serving.runner",
    "serve": "loopml.serving.runner",
}


def __getattr__(name: str) -> Any:
    # FastAPI, uvicorn and pandas load with the first use, not with this package.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'loopml.serving' has no attribute {name!r}")
