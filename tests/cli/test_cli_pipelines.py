"""``loopml pipelines list|show`` against the ``pipelines:`` section of loopml.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DECLARED = """\
pipelines:
  training: flows:training
  squares: flows:fan
  catalog: flows:catalog_flow
"""


@pytest.fixture
def declared(flows, isolated_project: Path) -> Path:
    path = isolated_project / "loopml.yaml"
    path.write_text(DECLARED)
    return path


def test_list_shows_declared_pipelines_with_parameters(invoke, declared) -> None:
    result = invoke("pipelines", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 pipelines" in out
    assert "training" in out and "flows:training" in out and "rows=200, c=1.0" in out
    assert "squares" in out and "seconds=0.0" in out
    assert "catalog" in out and "none" in out  # no parameters


def test_list_without_declarations_says_how_to_declare(invoke, isolated_project) -> None:
    result = invoke("pipelines", "list")
    assert result.exit_code == 0
    assert "No pipelines declared in loopml.yaml" in result.stdout
    assert "loopml run" in result.stdout


def test_list_shows_a_broken_declaration_and_exits_2(invoke, flows, isolated_project) -> None:
    (isolated_project / "loopml.yaml").write_text(
        DECLARED + "  broken: flows:nothing\n  missing: not_a_module:flow\n"
    )
    result = invoke("pipelines", "list")
    assert result.exit_code == 2
    words = " ".join(result.stdout.split())  # cells wrap
    assert "flows:training rows=200, c=1.0" in words  # the others are still listed
    assert "'flows:nothing' is not a @pipeline function" in words
    assert "cannot import 'not_a_module'" in words


def test_a_malformed_section_is_exit_2(invoke, isolated_project) -> None:
    (isolated_project / "loopml.yaml").write_text("pipelines:\n  - flows:training\n")
    result = invoke("pipelines", "list")
    assert result.exit_code == 2
    assert "maps names to module:function references" in result.stderr


def test_show_draws_the_plan_in_order(invoke, declared) -> None:
    result = invoke("pipelines", "show", "training", "--param", "rows=50")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "pipeline training" in out and "flows:training" in out
    assert "params: rows=50, c=1.0" in out
    assert "6 steps, in order" in out
    positions = [out.index(f" {node} ") for node in ("make_data", "split", "train", "evaluate")]
    assert positions == sorted(positions)
    assert "data ← make_data" in out and "data ← split.train" in out
    assert "featurize_2" in out and "train, test" in out  # split's two outputs
    assert "rows=50" in out


def test_show_names_catalog_reads_and_writes(invoke, declared) -> None:
    result = invoke("pipelines", "show", "catalog")
    assert result.exit_code == 0, result.output
    words = " ".join(result.stdout.split())  # cells wrap
    assert "load.numbers catalog: numbers" in words
    assert "save.doubled data ← double → catalog: doubled" in words


def test_show_json_is_the_plan_as_data(invoke, declared) -> None:
    result = invoke("pipelines", "show", "training", "-p", "c=0.5", "--json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["name"] == "training"
    assert plan["params"] == {"rows": 200, "c": 0.5}
    nodes = {node["name"]: node for node in plan["nodes"]}
    assert plan["nodes"][0]["name"] == "make_data"
    assert nodes["train"]["params"] == {"c": 0.5}
    assert nodes["evaluate"]["upstream"] == ["featurize_2", "train"]


def test_show_takes_a_reference_too(invoke, flows) -> None:
    result = invoke("pipelines", "show", "flows:composed")
    assert result.exit_code == 0, result.output
    assert "features.featurize" in result.stdout  # a composed pipeline's steps are namespaced


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no pipeline named 'nope' (known: catalog, squares, training)"),
        (["training", "-p", "depth=3"], "has no parameter 'depth'"),
        (["training", "-p", "rows"], "not key=value"),
        (["flows:features"], "needs parameter 'data'"),
    ],
)
def test_show_bad_input_is_exit_2(invoke, declared, args: list[str], message: str) -> None:
    result = invoke("pipelines", "show", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
