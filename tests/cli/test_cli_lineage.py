"""``loopml lineage``: upstream and downstream trees from an artifact or an execution."""

from __future__ import annotations

from loopml.workspace import get_workspace


def test_upstream_of_a_model_reaches_the_raw_file(invoke, project) -> None:
    result = invoke("lineage", project.model[:10])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"artifact {project.model[:12]}")
    text = result.stdout
    assert f"produced by run good  {project.good[:8]}" in text
    assert f"train: artifact {project.table[:12]}" in text
    assert f"produced by run prepare  {project.prepare[:8]}" in text
    assert f"raw: artifact {project.raw[:12]}" in text and "raw.csv" in text
    assert project.bad[:8] not in text  # a sibling, not an ancestor
    assert "3 artifacts, 2 executions, 4 events (upstream)" in text
    # the tree nests: model > run > table > prepare > raw
    depth = [
        next(i for i, line in enumerate(lines) if key in line)
        for key in (project.good[:8], project.table[:12], project.prepare[:8], project.raw[:12])
    ]
    assert depth == sorted(depth)


def test_depth_limits_the_walk(invoke, project) -> None:
    result = invoke("lineage", project.model, "--depth", "1")
    assert result.exit_code == 0
    assert project.table[:12] in result.stdout
    assert project.prepare[:8] not in result.stdout


def test_downstream_of_a_table_reaches_both_trainings(invoke, project) -> None:
    result = invoke("lineage", project.table, "--downstream")
    assert result.exit_code == 0
    text = result.stdout
    assert f"consumed by run good  {project.good[:8]}" in text
    assert f"consumed by run bad  {project.bad[:8]}" in text
    assert f"model: artifact {project.model[:12]}" in text
    assert "(downstream)" in text


def test_upstream_of_an_execution(invoke, project) -> None:
    result = invoke("lineage", project.good)
    assert result.exit_code == 0
    assert result.stdout.startswith("run good")
    assert project.raw[:12] in result.stdout


def test_a_node_reached_twice_is_drawn_once(invoke, project) -> None:
    result = invoke("lineage", project.prepare, "--downstream")
    assert result.exit_code == 0
    assert result.stdout.count(project.table[:12]) == 1


def test_execution_prefix_and_artifact_prefix_are_told_apart(invoke, isolated_project) -> None:
    store = get_workspace().metadata
    store.create_execution("run", "twin", execution_id="abcdef" + "0" * 26)
    store.put_artifact("abcdef" + "1" * 58, "file:///x", 1, "file")
    assert invoke("lineage", "abcdef0").stdout.startswith("run twin")
    assert invoke("lineage", "abcdef1").stdout.startswith("artifact abcdef111111")
    ambiguous = invoke("lineage", "abcdef")
    assert ambiguous.exit_code == 2
    assert "ambiguous" in ambiguous.stderr


def test_unknown_or_malformed_id_is_exit_2(invoke, project) -> None:
    unknown = invoke("lineage", "ffffffffff")
    assert unknown.exit_code == 2
    assert "no execution or artifact with id 'ffffffffff'" in unknown.stderr
    malformed = invoke("lineage", "model.pkl")
    assert malformed.exit_code == 2
    assert "not a valid execution or artifact id" in malformed.stderr
