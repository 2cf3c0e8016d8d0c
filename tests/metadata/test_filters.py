from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopml.core.errors import InvalidInputError
from loopml.metadata.filters import BoolOp, Comparison, Field, Not, parse_filter, parse_order_by


def test_parses_the_documented_examples() -> None:
    node = parse_filter("metrics.rmse < 0.5 and params.model = 'rf'")
    assert node == BoolOp(
        "and",
        (
            Comparison(Field("metrics", "rmse"), "<", 0.5),
            Comparison(Field("params", "model"), "=", "rf"),
        ),
    )
    node = parse_filter("(tags.team = 'core' or tags.team ILIKE 'ml%') and not status = 'failed'")
    assert isinstance(node, BoolOp) and isinstance(node.items[1], Not)
    node = parse_filter(
        "metrics.`val loss` <= 1e-3 and params.layers IN ('2', '3') and tags.note IS NULL"
    )
    assert node is not None
    assert parse_filter("metrics.val.loss > -2") == Comparison(
        Field("metrics", "val.loss"), ">", -2.0
    )
    assert parse_filter("params.name = 'it''s'") == Comparison(Field("params", "name"), "=", "it's")
    assert parse_filter("   ") is None


def test_attributes_have_aliases() -> None:
    assert parse_filter("attributes.run_id = 'x'") == Comparison(
        Field("attributes", "id"), "=", "x"
    )
    assert parse_filter("start_time > 0") == Comparison(Field("attributes", "started_at"), ">", 0.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.rmse < 'a'", "compare it to a number"),
        ("params.n = 5", "quote the value"),
        ("foo = 1", "unknown attribute"),
        ("widgets.x = 1", "unknown entity"),
        ("metrics.x <", "expected a number"),
        ("metrics.x < 1 metrics.y < 2", "missing AND/OR"),
        ("(metrics.x < 1", "closing parenthesis"),
        ("metrics.x LIKE 'a%'", "LIKE compares text"),
        ("metrics.x ~ 1", "cannot read"),
    ],
)
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_filter(text)


def test_order_by() -> None:
    assert parse_order_by(["metrics.rmse DESC", "name"]) == [
        (Field("metrics", "rmse"), True),
        (Field("attributes", "name"), False),
    ]
    with pytest.raises(InvalidInputError):
        parse_order_by(["metrics.rmse sideways"])


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInputError):
        parse_filter(text)
