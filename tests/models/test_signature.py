"""Signatures: inference, checks that name the offending column, plain-data round trips."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidInputError
from loopml.models import ColumnSpec, Signature, SignatureError


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.array([1, 2, 3], dtype="int64"),
            "f": [0.5, np.nan, 1.0],
            "b": [True, False, True],
            "s": ["a", None, "c"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
            "c": pd.Categorical(["x", "y", "x"]),
            "n": pd.array([1, None, 3], dtype="Int64"),
        }
    )


def test_infer_gives_logical_types_and_nullability() -> None:
    signature = Signature.infer(_frame(), np.array([0.1, 0.2, 0.3]))
    assert signature.inputs == (
        ColumnSpec("i", "int"),
        ColumnSpec("f", "float", nullable=True),
        ColumnSpec("b", "bool"),
        ColumnSpec("s", "string", nullable=True),
        ColumnSpec("t", "timestamp", nullable=True),
        ColumnSpec("c", "category"),
        ColumnSpec("n", "int", nullable=True),
    )
    assert signature.outputs == (ColumnSpec("prediction", "float"),)


def test_outputs_of_2d_and_named_predictions() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    assert Signature.infer(frame, np.ones((2, 2))).outputs == (
        ColumnSpec("prediction_0", "float"),
        ColumnSpec("prediction_1", "float"),
    )
    assert Signature.infer(frame, pd.Series(["a", "b"], name="label")).outputs == (
        ColumnSpec("label", "string"),
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (lambda f: f.drop(columns="b"), "b", "missing"),
        (lambda f: f.assign(extra=1), "extra", "not in the signature"),
        (lambda f: f.assign(i=[1.5, 2.0, 3.0]), "i", "is float"),
        (lambda f: f.assign(c=["x", "y", "x"]), "c", "says category"),
        (lambda f: f.assign(b=[1, 0, 1]), "b", "says bool"),
        (lambda f: f.assign(s=["a", 1, "c"]), "s", "mixed"),
        (lambda f: f.assign(i=pd.array([1, None, 3], dtype="Int64")), "i", "null"),
    ],
)
def test_check_names_the_offending_column(change, field: str, words: str) -> None:  # type: ignore[no-untyped-def]
    signature = Signature.infer(_frame())
    with pytest.raises(SignatureError, match=words) as error:
        signature.check(change(_frame()))
    assert error.value.field == field
    assert isinstance(error.value, InvalidInputError)


def test_ints_are_accepted_where_floats_are_expected() -> None:
    signature = Signature((ColumnSpec("x", "float"),))
    signature.check(pd.DataFrame({"x": [1, 2]}))


def test_a_non_frame_is_refused() -> None:
    with pytest.raises(SignatureError, match="DataFrame"):
        Signature.infer(_frame()).check({"i": [1]})


def test_unsupported_columns_are_refused_at_inference() -> None:
    with pytest.raises(SignatureError) as error:
        Signature.infer(pd.DataFrame({"d": pd.to_timedelta([1, 2], unit="s")}))
    assert error.value.field == "d"


@pytest.mark.parametrize(
    "data",
    [
        {"inputs": []},
        {"inputs": [{"name": "x", "type": "complex"}]},
        {"inputs": [{"name": "x", "type": "int"}, {"name": "x", "type": "int"}]},
        {"inputs": [{"name": "x", "type": "int", "size": 3}]},
        {"outputs": []},
    ],
)
def test_malformed_signatures_are_refused(data: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(SignatureError):
        Signature.from_dict(data)


_COLUMNS = st.sampled_from(
    [
        st.lists(st.integers(-(2**40), 2**40), min_size=3, max_size=3).map(
            lambda v: pd.Series(v, dtype="int64")
        ),
        st.lists(st.floats(allow_nan=True, allow_infinity=False), min_size=3, max_size=3).map(
            pd.Series
        ),
        st.lists(st.booleans(), min_size=3, max_size=3).map(pd.Series),
        st.lists(st.one_of(st.none(), st.text(max_size=5)), min_size=3, max_size=3).map(
            lambda v: pd.Series(v, dtype=object)
        ),
        st.lists(st.sampled_from("abc"), min_size=3, max_size=3).map(
            lambda v: pd.Series(v, dtype="category")
        ),
    ]
).flatmap(lambda strategy: strategy)


@settings(max_examples=60, deadline=None)
@given(st.lists(_COLUMNS, min_size=1, max_size=5))
def test_a_frame_matches_its_inferred_signature_and_the_signature_round_trips(
    columns: list[pd.Series],
) -> None:
    frame = pd.DataFrame({f"c{i}": column for i, column in enumerate(columns)})
    signature = Signature.infer(frame)
    signature.check(frame)
    signature.check(frame[list(reversed(frame.columns))])
    assert Signature.from_dict(signature.to_dict()) == signature


def test_input_floats_may_be_missing_even_when_the_example_has_no_gap() -> None:
    """Regression: a production batch with one NaN reading was refused by a signature
    inferred from an example without gaps (the quickstart's July weather)."""
    import pandas as pd

    signature = Signature.infer(
        pd.DataFrame({"wind": [1.5, 2.0], "count": [1, 2]}), pd.Series([0.1, 0.2])
    )
    nullable = {c.name: c.nullable for c in signature.inputs}
    assert nullable == {"wind": True, "count": False}
    assert signature.outputs[0].nullable is False, "predictions must not be missing"
    signature.check(pd.DataFrame({"wind": [float("nan")], "count": [3]}))
