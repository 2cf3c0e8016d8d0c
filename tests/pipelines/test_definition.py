"""Pipelines compile to a checked plan; mistakes are named before anything runs."""

from __future__ import annotations

import pandas as pd
import pytest
from flows import composed, make_data, split, training

from loopml.pipelines import (
    Node,
    OutputRef,
    PipelineDefinitionError,
    Plan,
    load_pipeline,
    pipeline,
    step,
)


def test_compile_orders_steps_and_binds_params() -> None:
    plan = training.compile(rows=50, c=0.1)
    assert plan.order == ("make_data", "split", "featurize", "train", "featurize_2", "evaluate")
    assert plan.nodes["make_data"].params == {"rows": 50, "seed": 0}
    assert plan.nodes["train"].params == {"c": 0.1}
    assert plan.nodes["train"].inputs == {"data": OutputRef("featurize", "output")}
    assert plan.nodes["split"].outputs == ("train", "test")
    assert plan.params == {"rows": 50, "c": 0.1}
    text = plan.render()
    assert "2. split(data=make_data.output; test_fraction=0.25) -> train, test" in text
    data = plan.to_dict()
    assert [n["name"] for n in data["nodes"]] == list(plan.order)
    assert data["nodes"][3]["upstream"] == ["featurize"]


def test_composed_pipelines_are_namespaced() -> None:
    plan = composed.compile()
    assert {"features.featurize", "features_2.featurize"} <= set(plan.order)
    assert plan.nodes["train"].inputs["data"] == OutputRef("features.featurize", "output")


def test_steps_are_plain_functions_outside_pipelines() -> None:
    frame = make_data(rows=10)
    train_rows, test_rows = split(frame, test_fraction=0.5)
    assert len(train_rows) == len(test_rows) == 5


def test_a_cycle_is_refused() -> None:
    a = Node("a", make_data, {"data": OutputRef("b", "output")}, {}, ("output",))
    b = Node("b", make_data, {"data": OutputRef("a", "output")}, {}, ("output",))
    with pytest.raises(PipelineDefinitionError, match="cycle"):
        Plan.build("loop", [a, b])


def test_a_missing_input_is_refused() -> None:
    node = Node("a", make_data, {"data": OutputRef("nowhere", "output")}, {}, ("output",))
    with pytest.raises(PipelineDefinitionError, match="no step 'nowhere'"):
        Plan.build("p", [node])
    other = Node("b", make_data, {}, {}, ("output",))
    wrong = Node("a", make_data, {"data": OutputRef("b", "nope")}, {}, ("output",))
    with pytest.raises(PipelineDefinitionError, match="has outputs"):
        Plan.build("p", [other, wrong])


@step
def wants_int(x: int) -> int:
    return x


@step
def gives_frame() -> pd.DataFrame:
    return pd.DataFrame()


def test_a_type_mismatch_between_steps_is_refused() -> None:
    @pipeline
    def mismatched():
        wants_int(gives_frame())

    with pytest.raises(
        PipelineDefinitionError, match=r"expects int, but gives_frame\.output returns DataFrame"
    ):
        mismatched.compile()


@step
def maybe_int(x: int = 0) -> int | None:
    return x or None


@step
def takes_optional(x: int | None) -> int:
    return x or 0


@step
def takes_number(x: float | int | None) -> float:
    return float(x or 0)


def test_optional_outputs_fit_inputs_that_accept_every_option() -> None:
    """Regression: ``int | None`` produced was refused where ``int | None`` was expected."""

    @pipeline
    def optional():
        takes_optional(maybe_int())
        takes_number(maybe_int.with_options(name="again")())

    assert set(optional.compile().nodes) >= {"takes_optional", "takes_number"}

    @pipeline
    def too_narrow():
        wants_int(maybe_int())

    with pytest.raises(PipelineDefinitionError, match="expects int"):
        too_narrow.compile()


def test_parameters_are_checked() -> None:
    with pytest.raises(PipelineDefinitionError, match="no parameter 'depth'"):
        training.compile(depth=3)

    @pipeline
    def needs(size: int):
        make_data(rows=size)

    with pytest.raises(PipelineDefinitionError, match="needs parameter 'size'"):
        needs.compile()

    @pipeline
    def opaque():
        make_data(rows=object())  # type: ignore[arg-type]

    with pytest.raises(PipelineDefinitionError, match="not JSON-able"):
        opaque.compile()

    @pipeline
    def unknown_arg():
        make_data(colour="red")  # type: ignore[call-arg]

    with pytest.raises(PipelineDefinitionError, match="make_data"):
        unknown_arg.compile()


def test_step_definitions_are_checked() -> None:
    with pytest.raises(PipelineDefinitionError, match="name every input"):
        step(lambda *xs: xs)
    with pytest.raises(PipelineDefinitionError, match="distinct identifiers"):
        step(outputs=("a", "a"))(lambda: (1, 1))
    with pytest.raises(PipelineDefinitionError, match="retries"):
        step(retries=-1)(lambda: 1)


def test_two_steps_with_one_name_are_told_apart() -> None:
    @pipeline
    def twice():
        make_data(rows=1)
        make_data(rows=2)

    assert twice.compile().order == ("make_data", "make_data_2")


def test_load_pipeline_by_reference() -> None:
    assert load_pipeline("flows:training") is training
    with pytest.raises(PipelineDefinitionError, match="module:function"):
        load_pipeline("flows")
    with pytest.raises(PipelineDefinitionError, match="not a @pipeline"):
        load_pipeline("flows:make_data")
    with pytest.raises(PipelineDefinitionError, match="cannot import"):
        load_pipeline("no_such_module_anywhere:x")
