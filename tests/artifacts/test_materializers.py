"""Materializers: lookup by MRO, faithful round trips, refusals and the skops trust gate."""

from __future__ import annotations

import collections
import datetime
import enum
import io
import math
import os
import subprocess
import sys
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from loopml.artifacts import (
    ArtifactConflictError,
    Materializer,
    MaterializerError,
    MaterializerNotFoundError,
    get_materializer,
    materializer_for,
    qualified_type_name,
    register_materializer,
)
from loopml.core.errors import InvalidInputError, UnsafeLoadError


def round_trip(obj: Any, **load_options: Any) -> Any:
    materializer = materializer_for(obj)
    data = materializer.dump(obj)
    assert isinstance(data, bytes)
    if materializer.name != "skops":  # skops names zip entries by object id and time
        assert materializer.dump(obj) == data, "equal objects must give equal bytes"
    return get_materializer(materializer.name).load(
        data, materializer.type_name(obj), **load_options
    )


# --- registry ----------------------------------------------------------------------


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    ("obj", "name"),
    [
        ({"a": 1}, "json"),
        (collections.OrderedDict(a=1), "json"),
        ([1, 2], "json"),
        (3, "json"),
        (True, "json"),
        (None, "json"),
        (2.5, "json"),
        (np.float64(2.5), "json"),  # a float subclass
        (Color.RED, "json"),
        ("text", "text"),
        (b"raw", "bytes"),
        (bytearray(b"raw"), "bytes"),
        (np.arange(3), "numpy"),
        (pd.DataFrame({"a": [1]}), "pandas-parquet"),
    ],
)
def test_materializer_for_follows_the_mro(obj: Any, name: str) -> None:
    assert materializer_for(obj).name == name


def test_estimators_use_skops() -> None:
    from sklearn.linear_model import LinearRegression

    assert materializer_for(LinearRegression()).name == "skops"


@pytest.mark.parametrize("obj", [object(), {1, 2}, (1, 2), 1j, datetime.date(2024, 1, 1)])
def test_unhandled_types_are_invalid_input(obj: Any) -> None:
    with pytest.raises(MaterializerError, match="no materializer handles") as caught:
        materializer_for(obj)
    assert isinstance(caught.value, InvalidInputError)


def test_unknown_name() -> None:
    with pytest.raises(MaterializerNotFoundError, match="registered: "):
        get_materializer("pickle")


def test_builtins_are_safe_to_load() -> None:
    for name in ("json", "text", "bytes", "numpy", "pandas-parquet", "skops"):
        materializer = get_materializer(name)
        assert materializer.safe_to_load
        assert materializer.extension.startswith(".")
        assert materializer.version >= 1


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


class TaggedDict(dict):
    pass


class PointMaterializer(Materializer):
    name = "test-point"
    types: ClassVar[tuple[str, ...]] = (f"{__name__}.Point",)

    def dump(self, obj: Any) -> bytes:
        return f"{obj.x},{obj.y}".encode()

    def load(self, data: bytes, type_name: str, *, trusted=None) -> Any:
        x, y = data.decode().split(",")
        return Point(int(x), int(y))


class TaggedDictMaterializer(PointMaterializer):
    name = "test-tagged-dict"
    types: ClassVar[tuple[str, ...]] = (f"{__name__}.TaggedDict",)


def test_custom_materializers() -> None:
    register_materializer(PointMaterializer(), replace=True)
    register_materializer(TaggedDictMaterializer(), replace=True)

    back = round_trip(Point(3, 4))
    assert (back.x, back.y) == (3, 4)
    assert materializer_for(TaggedDict()).name == "test-tagged-dict"  # nearest type wins
    assert materializer_for({}).name == "json"
    with pytest.raises(ArtifactConflictError):
        register_materializer(PointMaterializer())


def test_registering_something_malformed_is_refused() -> None:
    class Nameless(PointMaterializer):
        name = ""

    class Typeless(PointMaterializer):
        name = "test-typeless"
        types: ClassVar[tuple[str, ...]] = ()

    for bad in (Nameless(), Typeless(), "not a materializer"):
        with pytest.raises(MaterializerError):
            register_materializer(bad)  # type: ignore[arg-type]


def test_qualified_type_name() -> None:
    assert qualified_type_name({}) == "builtins.dict"
    assert qualified_type_name(Point(1, 2)) == f"{__name__}.Point"


# --- JSON, text, bytes --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"nested": {"list": [1, 2.5, None, True, "\u00e9\U0001f600"], "empty": {}}, "z": []},
        [],
        {},
        0,
        -(2**80),
        0.1,
        -0.0,
        1e308,
        False,
        None,
        "",
        {"order": 1, "is": 2, "kept": 3},
    ],
)
def test_json_round_trip(value: Any) -> None:
    back = round_trip(value)
    assert back == value and type(back) is type(value)
    if isinstance(value, dict):
        assert list(back) == list(value)
    if isinstance(value, float):
        assert math.copysign(1, back) == math.copysign(1, value)


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        {"a": [1, float("-inf")]},
        {"a": (1, 2)},
        {1: "int key"},
        {"when": datetime.datetime(2024, 1, 1)},
        {"s": {1, 2}},
    ],
)
def test_json_refuses_what_it_would_change(value: Any) -> None:
    with pytest.raises(MaterializerError) as caught:
        get_materializer("json").dump(value)
    assert isinstance(caught.value, InvalidInputError)


def test_json_refuses_cycles() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(MaterializerError):
        get_materializer("json").dump(loop)


@pytest.mark.parametrize("data", [b"NaN", b'{"a": Infinity}', b"{not json", b"\xff"])
def test_json_load_refuses_bad_data(data: bytes) -> None:
    with pytest.raises(MaterializerError):
        get_materializer("json").load(data, "builtins.dict")


def test_text_and_bytes() -> None:
    assert round_trip("h\u00e9llo \U0001f600\n") == "h\u00e9llo \U0001f600\n"
    assert round_trip(b"\x00\xff") == b"\x00\xff"
    back = round_trip(bytearray(b"ab"))
    assert back == bytearray(b"ab") and type(back) is bytearray
    with pytest.raises(MaterializerError):
        get_materializer("text").dump("\ud800")
    with pytest.raises(MaterializerError):
        get_materializer("text").load(b"\xff\xfe", "builtins.str")


# --- numpy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [
        np.array([True, False]),
        np.arange(10, dtype=np.int8),
        np.array([2**64 - 1], dtype=np.uint64),
        np.array([1.5, np.nan, np.inf], dtype=np.float16),
        np.array([1 + 2j], dtype=np.complex128),
        np.array(["2024-01-01T00:00:00.000000001"], dtype="datetime64[ns]"),
        np.array([5], dtype="timedelta64[s]"),
        np.array(["\u00e9t\u00e9", "b"]),
        np.array([b"ab", b"c"]),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.array(3.0),
        np.empty((0, 3)),
        np.asfortranarray(np.arange(6).reshape(2, 3)),
        np.arange(20)[::3],
        np.arange(4, dtype=">i4"),
    ],
    ids=lambda a: str(a.dtype),
)
def test_numpy_round_trip(array: np.ndarray) -> None:
    back = round_trip(array)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    if array.ndim > 1 and not array.flags.c_contiguous:
        assert back.flags.f_contiguous == array.flags.f_contiguous


@pytest.mark.parametrize(
    "array",
    [
        np.array([1, "a", None], dtype=object),
        np.array([(1, None)], dtype=[("a", "i4"), ("b", "O")]),
        np.ma.masked_array([1, 2], mask=[0, 1]),
    ],
)
def test_numpy_refuses_what_needs_pickle_or_would_be_lost(array: np.ndarray) -> None:
    with pytest.raises(MaterializerError):
        get_materializer("numpy").dump(array)


def test_numpy_never_unpickles() -> None:
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)

    with pytest.raises(MaterializerError):
        get_materializer("numpy").load(pickled.getvalue(), "numpy.ndarray")
    with pytest.raises(MaterializerError):
        get_materializer("numpy").load(b"PK\x03\x04 not npy", "numpy.ndarray")


# --- pandas -------------------------------------------------------------------------


def _frames() -> dict[str, pd.DataFrame]:
    with_attrs = pd.DataFrame({"a": [1]})
    with_attrs.attrs["source"] = "test"
    return {
        "categorical": pd.DataFrame(
            {"c": pd.Categorical(["a", "b", "a"], categories=["b", "a", "z"], ordered=True)}
        ),
        "tz": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, tz="Europe/Paris")}),
        "nullable": pd.DataFrame(
            {
                "i": pd.array([1, None, 3], dtype="Int64"),
                "b": pd.array([True, None, False], dtype="boolean"),
                "s": pd.array(["x", None, "z"], dtype="string"),
            }
        ),
        "numbers": pd.DataFrame(
            {
                "f16": np.array([1.5, 2.0], dtype=np.float16),
                "u64": np.array([2**64 - 1, 0], dtype=np.uint64),
                "i8": np.array([1, -1], dtype=np.int8),
                "nan": [np.nan, 1.0],
            }
        ),
        "time units": pd.DataFrame(
            {
                "s": pd.Series(pd.to_datetime(["2024-01-01"] * 2)).astype("datetime64[s]"),
                "s_tz": pd.Series(pd.to_datetime(["2024-01-01"] * 2, utc=True)).astype(
                    "datetime64[s, UTC]"
                ),
                "ns": pd.to_datetime(["2024-01-01 00:00:00.000000001"] * 2),
                "td": pd.to_timedelta([1, 2], unit="s"),
            },
            index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"]).astype("datetime64[s]"),
        ),
        "multiindex": pd.DataFrame(
            {"v": [1, 2]},
            index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"]),
        ),
        "multicolumns": pd.DataFrame(
            [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
        ),
        "named index": pd.DataFrame({"v": [1, 2]}, index=pd.Index(["x", "y"], name="id")),
        "index with freq": pd.DataFrame(
            {"v": [1, 2, 3]}, index=pd.date_range("2024-01-01", periods=3, freq="D")
        ),
        "range index step": pd.DataFrame({"v": [1, 2]}, index=pd.RangeIndex(10, 14, 2)),
        "int column names": pd.DataFrame({0: [1], 1: [2]}),
        "period and interval": pd.DataFrame(
            {
                "p": pd.period_range("2024-01", periods=2, freq="M"),
                "i": pd.interval_range(0, 2),
            }
        ),
        "dates as objects": pd.DataFrame({"d": [datetime.date(2024, 1, 1), None]}),
        "empty rows": pd.DataFrame(
            {"a": pd.Series([], dtype="int32"), "b": pd.Series([], dtype="string")}
        ),
        "empty": pd.DataFrame(),
        "index only": pd.DataFrame(index=[1, 2, 3]),
        "attrs": with_attrs,
    }


@pytest.mark.parametrize("name", list(_frames()))
def test_dataframe_round_trip(name: str) -> None:
    frame = _frames()[name]
    back = round_trip(frame)
    pd.testing.assert_frame_equal(back, frame, check_freq=True)
    assert back.attrs == frame.attrs


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"c": [1 + 2j]}),
        pd.DataFrame({"mixed": [1, "a"]}),
        pd.DataFrame([[1, 2]], columns=["a", "a"]),
    ],
    ids=["complex", "mixed objects", "duplicate columns"],
)
def test_dataframe_refusals(frame: pd.DataFrame) -> None:
    with pytest.raises(MaterializerError):
        get_materializer("pandas-parquet").dump(frame)


def test_dataframe_subclasses_are_refused() -> None:
    class MyFrame(pd.DataFrame):
        pass

    with pytest.raises(MaterializerError):
        get_materializer("pandas-parquet").dump(MyFrame({"a": [1]}))


def test_dataframe_load_refuses_garbage() -> None:
    with pytest.raises(MaterializerError):
        get_materializer("pandas-parquet").load(b"not parquet", "pandas.DataFrame")


# --- scikit-learn via skops ------------------------------------------------------------

sklearn = pytest.importorskip("sklearn")


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(80, 4))
    return features, (features[:, 0] + features[:, 1] > 0).astype(int)


def _models() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic": LogisticRegression(),
        "tree": DecisionTreeClassifier(max_depth=3),
        "forest": RandomForestClassifier(n_estimators=3, random_state=0),
        "hist gradient boosting": HistGradientBoostingClassifier(max_iter=5),
        "knn kd-tree": KNeighborsClassifier(algorithm="kd_tree"),
        "pipeline": make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_estimator_round_trip(name: str) -> None:
    features, labels = _data()
    model = _models()[name].fit(features, labels)

    back = round_trip(model)

    assert type(back) is type(model)
    np.testing.assert_array_equal(back.predict(features), model.predict(features))


class HomeMadeEstimator(sklearn.base.BaseEstimator):
    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor

    def fit(self, features: Any, labels: Any = None) -> HomeMadeEstimator:
        self.fitted_ = True
        return self


def test_untrusted_types_are_refused_unless_trusted() -> None:
    model = HomeMadeEstimator(3.0).fit(None)
    skops = get_materializer("skops")
    data = skops.dump(model)
    name = f"{__name__}.HomeMadeEstimator"

    with pytest.raises(UnsafeLoadError, match="HomeMadeEstimator"):
        skops.load(data, skops.type_name(model))
    back = skops.load(data, skops.type_name(model), trusted=[name])
    assert isinstance(back, HomeMadeEstimator) and back.factor == 3.0


def test_functions_hidden_in_a_model_are_refused() -> None:
    from sklearn.preprocessing import FunctionTransformer

    skops = get_materializer("skops")
    data = skops.dump(FunctionTransformer(func=eval))

    with pytest.raises(UnsafeLoadError, match=r"builtins\.eval"):
        skops.load(data, "sklearn.preprocessing._function_transformer.FunctionTransformer")


def test_skops_load_refuses_garbage() -> None:
    with pytest.raises(MaterializerError):
        get_materializer("skops").load(b"not a zip", "sklearn.linear_model.LinearRegression")


# --- lazy imports --------------------------------------------------------------------


def test_registry_lookups_import_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from loopml.artifacts import get_materializer, materializer_for\n"
        "assert materializer_for({'a': 1}).name == 'json'\n"
        "assert materializer_for('x').name == 'text'\n"
        "get_materializer('pandas-parquet'); get_materializer('skops')\n"
        "heavy = {'pandas', 'pyarrow', 'numpy', 'sklearn', 'skops'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})


_DUMP_MODEL = """
import hashlib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from loopml.artifacts import materializer_for
X, y = load_iris(return_X_y=True)
model = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0))
model.fit(X, y)
print(hashlib.sha256(materializer_for(model).dump(model)).hexdigest())
"""


def test_equal_models_give_equal_bytes_across_processes() -> None:
    """Regression: skops named entries by id() and stamped them with the time."""
    import subprocess
    import sys

    digests = {
        subprocess.run(
            [sys.executable, "-c", _DUMP_MODEL], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1


def test_canonical_skops_keeps_shared_references() -> None:
    import numpy as np
    from sklearn.preprocessing import FunctionTransformer

    from loopml.artifacts import materializer_for

    shared = np.arange(4.0)
    model = FunctionTransformer(kw_args={"a": shared, "b": shared})
    materializer = materializer_for(model)
    restored = materializer.load(materializer.dump(model), "x", trusted=["builtins.dict"])
    assert restored.kw_args["a"] is restored.kw_args["b"]
    np.testing.assert_array_equal(restored.kw_args["a"], shared)


def test_a_materializer_declared_as_an_entry_point_loads_without_importing_its_package() -> None:
    """A worker loading a stored schema may not have imported loopml.validation yet."""
    import subprocess
    import sys

    code = (
        "import sys; from loopml.artifacts import get_materializer; "
        "m = get_materializer('loopml-validation'); "
        'schema = m.load(b\'{"features": {"x": {"type": "int"}}}\', '
        "'loopml.validation.schema.Schema'); print(type(schema).__name__, schema['x'].type)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["Schema", "int"]
