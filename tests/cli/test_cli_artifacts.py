"""``loopml artifacts show|list``."""

from __future__ import annotations

import pytest


def test_show_by_prefix_names_type_size_uri_and_executions(invoke, project) -> None:
    result = invoke("artifacts", "show", project.table[:8])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert project.table in out
    assert "type" in out and "dict" in out
    assert "bytes" in out
    assert "uri" in out and "file://" in out
    assert "materializer" in out  # a property
    produced = out[out.index("Produced by") : out.index("Consumed by")]
    assert project.prepare[:8] in produced and "table" in produced
    consumed = out[out.index("Consumed by") :]
    assert project.good[:8] in consumed and project.bad[:8] in consumed
    assert "train" in consumed


def test_show_file_artifact_keeps_its_file_name(invoke, project) -> None:
    result = invoke("artifacts", "show", project.raw)
    assert result.exit_code == 0
    assert "raw.csv" in result.stdout
    assert "Produced by: none" in result.stdout


@pytest.mark.parametrize(
    ("artifact_id", "message"),
    [
        ("f" * 64, "no artifact with id"),
        ("abc", "not an artifact id"),
        ("zzzzzzzz", "not an artifact id"),
    ],
)
def test_show_bad_id_is_exit_2(invoke, project, artifact_id, message) -> None:
    result = invoke("artifacts", "show", artifact_id)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


def test_list_shows_newest_first(invoke, project) -> None:
    result = invoke("artifacts", "list")
    assert result.exit_code == 0
    out = result.stdout
    for artifact_id in (project.raw, project.table, project.model):
        assert artifact_id[:12] in out
    assert "raw.csv" in out
    only_files = invoke("artifacts", "list", "--type", "file")
    assert project.raw[:12] in only_files.stdout
    assert project.model[:12] not in only_files.stdout


def test_list_empty(invoke) -> None:
    result = invoke("artifacts", "list")
    assert result.exit_code == 0
    assert "No artifacts" in result.stdout
