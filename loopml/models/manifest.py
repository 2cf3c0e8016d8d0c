"""The manifest of a model package (``loopml-model.yaml``) and the lineage it records.

The manifest holds no timestamp and is written with a fixed key order, so
equal inputs give equal bytes and so one artifact id.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.version import __version__
from loopml.models.errors import ModelPackageError
from loopml.models.signature import Signature

FORMAT_VERSION = 1
MANIFEST_FILE = "loopml-model.yaml"
EXAMPLE_FILE = "example.parquet"
REQUIREMENTS_FILE = "requirements.txt"
TASKS = ("classification", "regression")


@dataclasses.dataclass(frozen=True)
class Lineage:
    """Where a model comes from.

    Attributes:
        run_id: the tracking run that trained it.
        training_data: ids of the artifacts it was trained on.
        code_version: the code that trained it (a git commit, a tag).
        pipeline_run: the pipeline run that produced it.
    """

    run_id: str | None = None
    training_data: tuple[str, ...] = ()
    code_version: str | None = None
    pipeline_run: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.training_data, str):
            raise ModelPackageError("lineage training_data is a list of artifact ids, not a str")
        object.__setattr__(self, "training_data", tuple(str(t) for t in self.training_data))
        for name in ("run_id", "code_version", "pipeline_run"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ModelPackageError(f"lineage {name} is a str, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the lineage as plain data."""
        return {
            "run_id": self.run_id,
            "training_data": list(self.training_data),
            "code_version": self.code_version,
            "pipeline_run": self.pipeline_run,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Lineage:
        """Build lineage from :meth:`to_dict` output (``None`` gives empty lineage)."""
        data = _mapping(data or {}, "lineage")
        _no_unknown(data, {f.name for f in dataclasses.fields(cls)}, "lineage")
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class ModelManifest:
    """What a model package holds and how to load it.

    Attributes:
        flavor: the flavor that wrote the model file (``sklearn``, ``xgboost``, ...).
        model_file: the model file's name inside the package.
        signature: the input and output columns.
        task: ``classification`` or ``regression``.
        classes: the class labels, in the column order of ``predict_proba`` (classifiers).
        safe: ``False`` only for flavors whose loading can run code (``pickle``).
        example_file: the example input rows (Parquet).
        requirements: pinned packages the flavor needs (``scikit-learn==1.5.2``).
        metrics: metric name -> value.
        params: parameter name -> JSON value.
        lineage: run, training data, code version, pipeline run.
        flavor_options: what the flavor needs to know to load the file again.
        loopml_version: the loopml that wrote the package.
        format_version: the package format (this loopml reads 1).
    """

    flavor: str
    model_file: str
    signature: Signature
    task: str
    classes: tuple[Any, ...] | None = None
    safe: bool = True
    example_file: str = EXAMPLE_FILE
    requirements: tuple[str, ...] = ()
    metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    lineage: Lineage = dataclasses.field(default_factory=Lineage)
    flavor_options: Mapping[str, str] = dataclasses.field(default_factory=dict)
    loopml_version: str = __version__
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != FORMAT_VERSION:
            raise ModelPackageError(
                f"model package format {self.format_version!r} is not one this loopml reads "
                f"({FORMAT_VERSION}); upgrade loopml"
            )
        if self.task not in TASKS:
            raise ModelPackageError(f"task is one of {', '.join(TASKS)}, not {self.task!r}")
        for name in ("model_file", "example_file"):
            _check_file_name(getattr(self, name), name)
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(_plain(c) for c in self.classes))
        object.__setattr__(self, "requirements", tuple(str(r) for r in self.requirements))
        object.__setattr__(self, "metrics", _metrics(self.metrics))
        object.__setattr__(self, "params", _params(self.params))
        options = _mapping(self.flavor_options, "flavor_options")
        object.__setattr__(self, "flavor_options", {str(k): str(v) for k, v in options.items()})

    def to_dict(self) -> dict[str, Any]:
        """Return the manifest as plain data, keys in a fixed order."""
        return {
            "format_version": self.format_version,
            "flavor": self.flavor,
            "safe": self.safe,
            "model_file": self.model_file,
            "task": self.task,
            "classes": None if self.classes is None else list(self.classes),
            "signature": self.signature.to_dict(),
            "example_file": self.example_file,
            "requirements": list(self.requirements),
            "metrics": dict(sorted(self.metrics.items())),
            "params": dict(sorted(self.params.items())),
            "lineage": self.lineage.to_dict(),
            "flavor_options": dict(sorted(self.flavor_options.items())),
            "loopml_version": self.loopml_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelManifest:
        """Build a manifest from :meth:`to_dict` output.

        Raises:
            ModelPackageError: on missing or unknown keys, or bad values.
            SignatureError: if the signature is malformed.
        """
        data = dict(_mapping(data, "manifest"))
        _no_unknown(data, {f.name for f in dataclasses.fields(cls)}, "manifest")
        missing = {"flavor", "model_file", "signature", "task"} - set(data)
        if missing:
            raise ModelPackageError(f"manifest lacks {', '.join(sorted(missing))}")
        data["signature"] = Signature.from_dict(_mapping(data["signature"], "signature"))
        data["lineage"] = Lineage.from_dict(data.get("lineage"))
        for key in ("flavor", "model_file", "task", "example_file", "loopml_version"):
            if key in data and not isinstance(data[key], str):
                raise ModelPackageError(f"manifest {key} is a str, not {data[key]!r}")
        if not isinstance(data.get("safe", True), bool):
            raise ModelPackageError("manifest safe is true or false")
        return cls(**data)

    def to_yaml(self) -> str:
        """Render the manifest as YAML (deterministic)."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    @classmethod
    def from_yaml(cls, text: str) -> ModelManifest:
        """Parse a manifest from YAML (safe loader only).

        Raises:
            ModelPackageError: if the text is not a manifest.
        """
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ModelPackageError(f"{MANIFEST_FILE} is not valid YAML: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def read(cls, folder: str | Path) -> ModelManifest:
        """Read the manifest of the package in ``folder``.

        Raises:
            ModelPackageError: if the folder holds no readable manifest.
        """
        path = Path(folder) / MANIFEST_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ModelPackageError(
                f"{str(folder)!r} is not a model package: it has no {MANIFEST_FILE}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelPackageError(f"cannot read {path}: {exc}") from exc
        return cls.from_yaml(text)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ModelPackageError(f"{what} is a mapping, not {type(value).__name__}")
    return value


def _no_unknown(data: Mapping[str, Any], known: set[str], what: str) -> None:
    unknown = set(data) - known
    if unknown:
        raise ModelPackageError(f"unknown {what} keys: {', '.join(sorted(map(str, unknown)))}")


def _check_file_name(name: Any, what: str) -> None:
    """Package files sit at the package's top level: a bare file name, nothing else."""
    if (
        not isinstance(name, str)
        or not name
        or name in {".", ".."}
        or "/" in name
        or "\\" in name
        or "\0" in name
    ):
        raise ModelPackageError(f"manifest {what} is a bare file name, not {name!r}")


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones; refuse what YAML/JSON cannot hold as a scalar."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise ModelPackageError(f"{value!r} is not a str, number or bool")


def _metrics(metrics: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in _mapping(metrics, "metrics").items():
        plain = _plain(value)
        if isinstance(plain, bool) or not isinstance(plain, (int, float)):
            raise ModelPackageError(f"metric {name!r} is a number, not {value!r}")
        if not math.isfinite(plain):
            raise ModelPackageError(f"metric {name!r} is {plain}: metrics are finite")
        out[str(name)] = float(plain)
    return out


def _params(params: Any) -> dict[str, Any]:
    from loopml.core.hashing import canonical_json

    out: dict[str, Any] = {}
    for name, value in _mapping(params, "params").items():
        plain = _plain_tree(value)
        try:
            canonical_json(plain)
        except (TypeError, ValueError) as exc:
            raise ModelPackageError(f"param {name!r} is not a JSON value: {exc}") from exc
        out[str(name)] = plain
    return out


def _plain_tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_tree(v) for v in value]
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelPackageError(f"params are finite numbers, not {value}")
    return value
