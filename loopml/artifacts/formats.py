"""The built-in materializers. Heavy libraries are imported inside the methods that use them."""

from __future__ import annotations

import io
import json
import logging
import math
import re
from collections.abc import Sequence
from typing import Any

from loopml.artifacts.errors import MaterializerError
from loopml.artifacts.materializers import Materializer, qualified_type_name
from loopml.core.errors import UnsafeLoadError

logger = logging.getLogger(__name__)

SKOPS_TRUSTED_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    # HistGradientBoosting with categorical features keeps partial(check_array, ...):
    # a partial can only wrap a function skops also checks against this list.
    "functools.partial",
    "sklearn.utils.validation.check_array",
)
"""Types skops flags but loopml trusts: scikit-learn's compiled data structures
(trees, neighbour indexes) that only hold arrays, numpy dtypes, and the input
check that HistGradientBoosting's categorical preprocessing holds (a
``functools.partial`` of ``check_array``: a partial wraps only functions skops
checks too)."""

_NPY_MAGIC = b"\x93NUMPY"
_TEMPORAL = re.compile(r"^(datetime64|timedelta64)\[(s|ms|us|ns)\]$")
_FREQ_KEY = b"loopml.index_freq"


class JsonMaterializer(Materializer):
    """JSON values: dict (str keys), list, str, int, float, bool and None, nested.

    NaN and infinities are refused, and so are tuples and non-str keys, which
    JSON would silently turn into lists and str: what loads equals what was dumped.
    """

    name = "json"
    types = (
        "builtins.dict",
        "builtins.list",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
    )
    extension = ".json"

    def dump(self, obj: Any) -> bytes:
        try:
            text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError) as exc:
            raise MaterializerError(f"value is not JSON: {exc}") from exc
        _check_json_shape(obj)
        return text.encode()

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        try:
            return json.loads(data.decode(), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise MaterializerError(f"artifact is not valid JSON: {exc}") from exc


class TextMaterializer(Materializer):
    """``str`` as UTF-8."""

    name = "text"
    types = ("builtins.str",)
    extension = ".txt"

    def dump(self, obj: Any) -> bytes:
        try:
            return str(obj).encode()
        except UnicodeEncodeError as exc:
            raise MaterializerError(f"text is not encodable as UTF-8: {exc}") from exc

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            raise MaterializerError(f"artifact is not UTF-8 text: {exc}") from exc


class BytesMaterializer(Materializer):
    """``bytes`` and ``bytearray``, stored as they are."""

    name = "bytes"
    types = ("builtins.bytes", "builtins.bytearray")
    extension = ".bin"

    def dump(self, obj: Any) -> bytes:
        return bytes(obj)

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        return bytearray(data) if type_name == "builtins.bytearray" else bytes(data)


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed in a JSON artifact")


def _check_json_shape(obj: Any) -> None:
    """Refuse what JSON would change silently. ``obj`` already passed ``json.dumps``."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise MaterializerError(f"JSON object keys must be str, not {bad[0]!r}")
            stack.extend(value.values())
        elif isinstance(value, tuple):
            raise MaterializerError("JSON has no tuples: convert them to lists first")
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise MaterializerError("NaN and infinities are not JSON")


class NumpyMaterializer(Materializer):
    """``numpy.ndarray`` as ``.npy`` (``allow_pickle=False``): any dtype but Python objects."""

    name = "numpy"
    types = ("numpy.ndarray",)
    extension = ".npy"

    def dump(self, obj: Any) -> bytes:
        import numpy as np

        if type(obj) is not np.ndarray:
            raise MaterializerError(
                f"{qualified_type_name(obj)} is an ndarray subclass that .npy would not keep; "
                "convert it with numpy.asarray() first"
            )
        if obj.dtype.hasobject:
            raise MaterializerError(
                f"arrays of dtype {obj.dtype} hold Python objects, which only pickle can store "
                "and loopml never uses pickle; convert to a numeric, str or bytes dtype first"
            )
        buffer = io.BytesIO()
        try:
            np.save(buffer, obj, allow_pickle=False)
        except ValueError as exc:
            raise MaterializerError(f"cannot store this array as .npy: {exc}") from exc
        return buffer.getvalue()

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        import numpy as np

        if not data.startswith(_NPY_MAGIC):
            raise MaterializerError("artifact is not a .npy array")
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise MaterializerError(f"artifact is not a readable .npy array: {exc}") from exc


class PandasParquetMaterializer(Materializer):
    """``pandas.DataFrame`` as Parquet through pyarrow, keeping the index, dtypes and attrs.

    Columns pyarrow cannot type (mixed Python objects, complex numbers) and
    duplicate column names are refused.
    """

    name = "pandas-parquet"
    types = ("pandas.DataFrame",)
    extension = ".parquet"

    def dump(self, obj: Any) -> bytes:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        if type(obj) is not pd.DataFrame:
            raise MaterializerError(
                f"{qualified_type_name(obj)} is a DataFrame subclass that Parquet would not keep"
            )
        try:
            table = pa.Table.from_pandas(obj, preserve_index=True)
            freq = getattr(obj.index, "freqstr", None)
            if freq:
                table = table.replace_schema_metadata(
                    {**(table.schema.metadata or {}), _FREQ_KEY: freq.encode()}
                )
            sink = pa.BufferOutputStream()
            # Dictionary-encoding floats costs ~40% of the write and rarely shrinks them.
            dictionary = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
            pq.write_table(table, sink, use_dictionary=dictionary)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise MaterializerError(f"cannot store this DataFrame as Parquet: {exc}") from exc
        return bytes(sink.getvalue().to_pybytes())

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = _restore_time_units(pq.read_table(pa.BufferReader(data)))
            frame = table.to_pandas()
        except (pa.ArrowException, ValueError, TypeError, KeyError) as exc:
            raise MaterializerError(f"artifact is not a readable Parquet table: {exc}") from exc
        freq = (table.schema.metadata or {}).get(_FREQ_KEY)
        if freq:
            frame.index.freq = freq.decode()
        return frame


def _restore_time_units(table: Any) -> Any:
    """Cast timestamps and durations back to the unit pandas had (Parquet has no seconds)."""
    import pyarrow as pa

    columns = (table.schema.pandas_metadata or {}).get("columns", [])
    for column in columns:
        match = _TEMPORAL.match(str(column.get("numpy_type")))
        name = column.get("field_name")
        if match is None or name not in table.column_names:
            continue
        index = table.column_names.index(name)
        current = table.schema.field(index).type
        if pa.types.is_timestamp(current) and match[1] == "datetime64":
            wanted = pa.timestamp(match[2], tz=current.tz)
        elif pa.types.is_duration(current) and match[1] == "timedelta64":
            wanted = pa.duration(match[2])
        else:
            continue
        if wanted != current:
            field = table.schema.field(index).with_type(wanted)
            table = table.set_column(index, field, table.column(index).cast(wanted))
    return table


class SkopsMaterializer(Materializer):
    """scikit-learn estimators (pipelines included) in the skops format, never pickle.

    Loading builds only types that skops trusts by default, those of
    :data:`SKOPS_TRUSTED_TYPES`, and those the caller passes in ``trusted``;
    any other type raises :class:`~loopml.core.errors.UnsafeLoadError` before
    anything is built. skops names zip entries by object id and stamps them
    with the time; :func:`canonical_skops` renames and restamps them so equal
    models give equal bytes, hence one artifact and stable pipeline cache keys.
    """

    name = "skops"
    types = ("sklearn.base.BaseEstimator",)
    extension = ".skops"

    def dump(self, obj: Any) -> bytes:
        import skops.io

        try:
            return canonical_skops(bytes(skops.io.dumps(obj)))
        except (TypeError, ValueError, AttributeError) as exc:
            raise MaterializerError(
                f"skops cannot store {qualified_type_name(obj)}: {exc}"
            ) from exc

    def load(self, data: bytes, type_name: str, *, trusted: Sequence[str] | None = None) -> Any:
        import zipfile

        import skops.io

        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except (zipfile.BadZipFile, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise MaterializerError(f"artifact is not a skops file: {exc}") from exc
        allowed = {*SKOPS_TRUSTED_TYPES, *(trusted or ())}
        refused = sorted(set(untrusted) - allowed)
        if refused:
            raise UnsafeLoadError(
                f"loading this {type_name} would build types nobody trusted: {', '.join(refused)}. "
                "If you trust the artifact's author, pass them in trusted=[...]"
            )
        try:
            return skops.io.loads(data, trusted=list(untrusted))
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
            raise MaterializerError(f"artifact is not a readable skops file: {exc}") from exc


BUILTIN_MATERIALIZERS: tuple[type[Materializer], ...] = (
    JsonMaterializer,
    TextMaterializer,
    BytesMaterializer,
    NumpyMaterializer,
    PandasParquetMaterializer,
    SkopsMaterializer,
)
"""Registered on first use of the registry, in this order."""


_SKOPS_FILE = re.compile(r'"file": "([^"\\]+)"')
_SKOPS_ID = re.compile(r'"__id__": (\d+)')
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def canonical_skops(data: bytes) -> bytes:
    """Rewrite a skops zip so that equal models give equal bytes.

    Entries named by ``id()`` are renamed, and the ``__id__`` identity markers
    renumbered, by their order of first mention in ``schema.json`` (so shared
    references stay shared); every entry gets one fixed timestamp, and the
    entries are written in a fixed order. skops reads the result like the original.
    """
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = source.read("schema.json").decode()
        renames: dict[str, str] = {}
        for name in _SKOPS_FILE.findall(schema):
            if name not in renames:
                suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
                renames[name] = f"{len(renames):06d}.{suffix}"
        schema = _SKOPS_FILE.sub(
            lambda m: f'"file": "{renames.get(m.group(1), m.group(1))}"', schema
        )
        ids: dict[str, int] = {}
        for found in _SKOPS_ID.findall(schema):
            ids.setdefault(found, len(ids) + 1)
        schema = _SKOPS_ID.sub(lambda m: f'"__id__": {ids[m.group(1)]}', schema)
        entries = {"schema.json": (schema.encode(), zipfile.ZIP_DEFLATED)}
        for info in source.infolist():
            if info.filename != "schema.json":
                target = renames.get(info.filename, info.filename)
                entries[target] = (source.read(info.filename), info.compress_type)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target_zip:
        for name in sorted(entries):
            payload, compression = entries[name]
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            target_zip.writestr(info, payload)
    return out.getvalue()
