"""Signatures: the columns a model takes and gives, with logical types and nullability.

A signature is checked on every predict (and by the model server on every
request), so the check is cheap: one dtype look per column, one C-level
value scan for object columns, one null count per non-nullable column.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from loopml.models.errors import SignatureError

LOGICAL_TYPES = ("int", "float", "bool", "string", "timestamp", "category")
"""The logical column types of a signature."""

PREDICTION_COLUMN = "prediction"

# pandas.api.types.infer_dtype results of object columns that map to a logical type.
_INFERRED = {"string": "string", "empty": "string", "boolean": "bool"}


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One column of a signature.

    Attributes:
        name: the column name.
        type: one of :data:`LOGICAL_TYPES`.
        nullable: whether nulls (None, NaN, NaT, NA) are allowed.
    """

    name: str
    type: str
    nullable: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SignatureError(f"a column name is a non-empty str, not {self.name!r}")
        if self.type not in LOGICAL_TYPES:
            raise SignatureError(
                f"column {self.name!r} has type {self.type!r}; "
                f"a signature type is one of {', '.join(LOGICAL_TYPES)}",
                field=self.name,
            )
        if not isinstance(self.nullable, bool):
            raise SignatureError(f"nullable of {self.name!r} is true or false", field=self.name)

    def to_dict(self) -> dict[str, Any]:
        """Return the column as plain data."""
        return {"name": self.name, "type": self.type, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSpec:
        """Build a column from :meth:`to_dict` output.

        Raises:
            SignatureError: on unknown keys or bad values.
        """
        if not isinstance(data, Mapping):
            raise SignatureError(f"a column is a mapping with name, type, nullable: {data!r}")
        unknown = set(data) - {"name", "type", "nullable"}
        if unknown:
            raise SignatureError(f"unknown column keys: {', '.join(sorted(map(str, unknown)))}")
        return cls(str(data.get("name", "")), str(data.get("type")), data.get("nullable", False))


@dataclasses.dataclass(frozen=True)
class Signature:
    """The input and output columns of a model.

    Attributes:
        inputs: the columns ``predict`` takes, in the order the model wants them.
        outputs: the columns ``predict`` gives (one, ``prediction``, for most models).
    """

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if not self.inputs:
            raise SignatureError("a signature needs at least one input column")
        for side in (self.inputs, self.outputs):
            seen: set[str] = set()
            for column in side:
                if not isinstance(column, ColumnSpec):
                    raise SignatureError(f"signature columns are ColumnSpec, not {column!r}")
                if column.name in seen:
                    raise SignatureError(f"column {column.name!r} appears twice", field=column.name)
                seen.add(column.name)

    @property
    def input_names(self) -> list[str]:
        """The input column names, in order."""
        return [column.name for column in self.inputs]

    @classmethod
    def infer(cls, example: Any, predictions: Any = None) -> Signature:
        """Infer a signature from example input rows and the model's predictions on them.

        An input float column is nullable (NaN is how numbers say "missing"); any
        other column is nullable if the example holds a null in it.

        Raises:
            SignatureError: if a column has a type no logical type covers.
        """
        frame = _require_frame(example, "example")
        inputs = tuple(
            _infer_column(name, frame[name], float_nullable=True) for name in _names(frame)
        )
        outputs: tuple[ColumnSpec, ...] = ()
        if predictions is not None:
            out = prediction_frame(predictions)
            outputs = tuple(_infer_column(name, out[name]) for name in _names(out))
        return cls(inputs, outputs)

    def check(self, frame: Any) -> None:
        """Check that ``frame`` has exactly the input columns, with their types and nullability.

        Raises:
            SignatureError: naming the first offending column.
        """
        _check_columns(_require_frame(frame, "input"), self.inputs, "input")

    def check_outputs(self, predictions: Any) -> None:
        """Check the model's predictions against the output columns (if any are declared).

        Raises:
            SignatureError: naming the first offending column.
        """
        if self.outputs:
            _check_columns(prediction_frame(predictions), self.outputs, "output")

    def to_dict(self) -> dict[str, Any]:
        """Return the signature as plain data (YAML and JSON friendly)."""
        return {
            "inputs": [column.to_dict() for column in self.inputs],
            "outputs": [column.to_dict() for column in self.outputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Build a signature from :meth:`to_dict` output.

        Raises:
            SignatureError: if the data is not a signature.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("inputs"), Sequence):
            raise SignatureError("a signature is a mapping with an 'inputs' list")
        outputs = data.get("outputs") or []
        if not isinstance(outputs, Sequence):
            raise SignatureError("signature 'outputs' is a list")
        return cls(
            tuple(ColumnSpec.from_dict(c) for c in data["inputs"]),
            tuple(ColumnSpec.from_dict(c) for c in outputs),
        )


def logical_type(series: Any) -> str:
    """Return the logical type of a pandas Series.

    Raises:
        SignatureError: if no logical type covers the column (complex numbers,
            durations, mixed Python objects).
    """
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if types.is_bool_dtype(dtype):
        return "bool"
    if types.is_integer_dtype(dtype):
        return "int"
    if types.is_float_dtype(dtype):
        return "float"
    if types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if types.is_string_dtype(dtype) or types.is_object_dtype(dtype):
        inferred = types.infer_dtype(series, skipna=True)
        if inferred in _INFERRED:
            return _INFERRED[inferred]
        raise SignatureError(
            f"column {series.name!r} holds {inferred} values; a signature column is one of "
            f"{', '.join(LOGICAL_TYPES)}",
            field=str(series.name),
        )
    raise SignatureError(
        f"column {series.name!r} has dtype {dtype}, which no signature type covers "
        f"({', '.join(LOGICAL_TYPES)})",
        field=str(series.name),
    )


def prediction_frame(predictions: Any) -> Any:
    """Return predictions as a DataFrame: a 1-D result is one ``prediction`` column.

    Raises:
        SignatureError: if the predictions are not 1-D or 2-D.
    """
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        return predictions
    if isinstance(predictions, pd.Series):
        return predictions.to_frame(str(predictions.name or PREDICTION_COLUMN))
    array = np.asarray(predictions)
    if array.ndim == 1:
        return pd.DataFrame({PREDICTION_COLUMN: array})
    if array.ndim == 2:
        if array.shape[1] == 1:
            return pd.DataFrame({PREDICTION_COLUMN: array[:, 0]})
        names = [f"{PREDICTION_COLUMN}_{i}" for i in range(array.shape[1])]
        return pd.DataFrame(array, columns=names)
    raise SignatureError(f"predictions have {array.ndim} dimensions; a model gives 1 or 2")


def _require_frame(frame: Any, what: str) -> Any:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise SignatureError(f"the {what} is a pandas DataFrame, not {type(frame).__name__}")
    return frame


def _names(frame: Any) -> list[str]:
    names = list(frame.columns)
    bad = [name for name in names if not isinstance(name, str)]
    if bad:
        raise SignatureError(f"column names are str; rename {bad[0]!r}", field=str(bad[0]))
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise SignatureError(f"column {twice!r} appears twice", field=twice)
    return names


def _infer_column(name: str, series: Any, *, float_nullable: bool = False) -> ColumnSpec:
    kind = logical_type(series)
    # An input float column may always hold NaN: it is how numbers say "missing", and
    # a reading absent from the example can be absent in production (as in MLflow).
    nullable = (float_nullable and kind == "float") or bool(series.isna().any())
    return ColumnSpec(name, kind, nullable)


def _check_columns(frame: Any, specs: tuple[ColumnSpec, ...], side: str) -> None:
    names = _names(frame)
    present = set(names)
    for spec in specs:
        if spec.name not in present:
            raise SignatureError(f"{side} column {spec.name!r} is missing", field=spec.name)
    expected = {spec.name for spec in specs}
    for name in names:
        if name not in expected:
            raise SignatureError(
                f"{side} column {name!r} is not in the signature "
                f"(expected {', '.join(sorted(expected))})",
                field=name,
            )
    for spec in specs:
        _check_column(frame[spec.name], spec, side)


def _check_column(series: Any, spec: ColumnSpec, side: str) -> None:
    try:
        found = logical_type(series)
    except SignatureError as exc:
        raise SignatureError(f"{side} {exc.message}", field=spec.name) from None
    if found != spec.type and not (spec.type == "float" and found == "int"):
        raise SignatureError(
            f"{side} column {spec.name!r} is {found} ({series.dtype}), the signature says "
            f"{spec.type}",
            field=spec.name,
        )
    if not spec.nullable:
        nulls = int(series.isna().sum())
        if nulls:
            raise SignatureError(
                f"{side} column {spec.name!r} has {nulls} null value(s) and is not nullable",
                field=spec.name,
            )
