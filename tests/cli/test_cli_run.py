"""``loopml run`` and ``loopml runs resume``: the live view, caching, failures and resuming."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.cli.params import format_value, parse_params, parse_value
from loopml.core.errors import InvalidInputError
from loopml.metadata import ExecutionStatus
from loopml.workspace import get_workspace


def _calls(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _pipeline_runs():
    return get_workspace().metadata.list_executions(type="pipeline", limit=None)


def test_run_shows_every_step_and_what_to_look_at_next(invoke, flows, calls_file) -> None:
    result = invoke("run", "flows:training", "--param", "rows=120")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for node in ("make_data", "split", "featurize", "train", "featurize_2", "evaluate"):
        assert f"✓ {node}  done in" in out
    assert "pipeline training completed" in out and "6 ran, 0 cached" in out
    (record,) = _pipeline_runs()
    assert record.status is ExecutionStatus.COMPLETED
    assert record.properties["started_by"] == "cli"
    assert record.params == {"rows": "120", "c": "1.0"}  # the signature's default for c
    assert f"loopml runs show {record.id[:8]}" in out
    evaluation = get_workspace().metadata.list_events(
        execution_id=next(
            e.id
            for e in get_workspace().metadata.list_executions(type="step", parent_id=record.id)
            if e.name == "evaluate"
        )
    )
    output = next(e.artifact_id for e in evaluation if e.kind == "output")
    assert f"loopml lineage {output[:12]}" in out
    assert len(_calls(calls_file)) == 6


def test_a_second_run_comes_from_cache(invoke, flows, calls_file) -> None:
    assert invoke("run", "flows:training").exit_code == 0
    ran = _calls(calls_file)
    again = invoke("run", "flows:training")
    assert again.exit_code == 0, again.output
    assert _calls(calls_file) == ran, "no step ran again"
    assert "0 ran, 6 cached" in again.stdout
    assert again.stdout.count("cached  from ") == 6
    changed = invoke("run", "flows:training", "-p", "c=0.5")
    assert "2 ran, 4 cached" in changed.stdout  # train and evaluate depend on c
    forced = invoke("run", "flows:training", "--no-cache")
    assert forced.exit_code == 0, forced.output
    assert "6 ran, 0 cached" in forced.stdout
    assert len(_calls(calls_file)) == len(ran) + 2 + 6


def test_params_are_json_when_they_parse(invoke, flows, calls_file) -> None:
    result = invoke("run", "flows:training", "-p", "rows=80", "-p", "c=0.25")
    assert result.exit_code == 0, result.output
    record = _pipeline_runs()[0]
    assert record.properties["params"] == {"rows": 80, "c": 0.25}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500", 500),
        ("0.1", 0.1),
        ("true", True),
        ("null", None),
        ("[1, 2]", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ('"500"', "500"),
        ("hgb", "hgb"),
        ("two words", "two words"),
        ("", ""),
        ("NaN", "NaN"),
        ("-Infinity", "-Infinity"),
    ],
)
def test_parse_value(text: str, value: object) -> None:
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_parse_params_and_format_value_round_trip() -> None:
    params = parse_params(["rows=500", "model=hgb", "months=[1, 2]", "q=a=b", 'code="7"'])
    assert params == {"rows": 500, "model": "hgb", "months": [1, 2], "q": "a=b", "code": "7"}
    for value in params.values():
        assert parse_value(format_value(value)) == value
    assert format_value("") == '""'


@pytest.mark.parametrize(
    ("items", "message"),
    [(["rows"], "not key=value"), (["=3"], "not key=value"), (["a=1", "a=2"], "given twice")],
)
def test_parse_params_refuses_malformed_items(items: list[str], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_params(items)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no pipeline named 'nope'"),
        (["flows:nothing"], "is not a @pipeline function"),
        (["no_such_module:flow"], "cannot import 'no_such_module'"),
        (["flows:training", "--param", "rows"], "not key=value"),
        (["flows:training", "--param", "size=3"], "has no parameter 'size'"),
        (["flows:training", "-p", "rows=1", "-p", "rows=2"], "given twice"),
        (["flows:training", "--executor", "warp-drive"], "executor"),
        (["flows:catalog_flow"], "no dataset 'numbers' in the catalog"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(
    invoke, flows, calls_file, args: list[str], message: str
) -> None:
    result = invoke("run", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "", "refused before the live view starts"
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr
    assert _calls(calls_file) == []
    assert _pipeline_runs() == []


def test_a_failing_step_exits_1_with_its_traceback_and_the_resume_hint(invoke, flows) -> None:
    result = invoke("run", "flows:failing")
    assert result.exit_code == 1
    out = result.stdout
    (record,) = _pipeline_runs()
    assert record.status is ExecutionStatus.FAILED
    assert "✗ boom  failed" in out
    assert "- total  skipped" in out
    assert "step boom failed" in out
    assert 'raise ValueError("the step blew up")' in out
    assert "ValueError: the step blew up" in out
    assert "worker.py" not in out, "the machinery's frames are left out"
    assert f"loopml runs resume {record.id[:8]}" in out


def test_resume_completes_a_failed_run_reusing_what_finished(
    invoke, flows, calls_file, monkeypatch
) -> None:
    assert invoke("run", "flows:failing").exit_code == 1
    (failed,) = _pipeline_runs()
    assert _calls(calls_file) == ["slow_square:4"]
    monkeypatch.setattr(flows.boom, "fn", lambda x: x + 1)  # "fix" the step
    result = invoke("runs", "resume", failed.id[:8])
    assert result.exit_code == 0, result.output
    assert _calls(calls_file) == ["slow_square:4"], "the finished step is reused"
    assert "↺ slow_square  cached" in result.stdout
    assert "✓ boom  done" in result.stdout and "✓ total  done" in result.stdout
    resumed = _pipeline_runs()[0]
    assert resumed.status is ExecutionStatus.COMPLETED
    assert resumed.properties["started_by"] == f"resume:{failed.id}"
    assert (
        get_workspace().load(
            next(
                e.artifact_id
                for step in get_workspace().metadata.list_executions(
                    type="step", parent_id=resumed.id
                )
                if step.name == "total"
                for e in get_workspace().metadata.list_events(execution_id=step.id)
                if e.kind == "output"
            )
        )
        == 16 + 17
    )
    again = invoke("runs", "resume", resumed.id)
    assert again.exit_code == 2
    assert "completed: nothing to resume" in again.stderr


def test_resume_refuses_what_is_not_a_pipeline_run(invoke, flows) -> None:
    invoke("run", "flows:failing")
    (failed,) = _pipeline_runs()
    step = get_workspace().metadata.list_executions(type="step", parent_id=failed.id)[0]
    result = invoke("runs", "resume", step.id[:8])
    assert result.exit_code == 2
    assert f"is a pipeline step of pipeline run {failed.id[:8]}" in result.stderr
    unknown = invoke("runs", "resume", "abcdef12")
    assert unknown.exit_code == 2
    assert "no pipeline run with id" in unknown.stderr


def test_a_declared_pipeline_runs_by_its_name(invoke, flows, isolated_project: Path) -> None:
    (isolated_project / "loopml.yaml").write_text("pipelines:\n  squares: flows:fan\n")
    result = invoke("run", "squares")
    assert result.exit_code == 0, result.output
    assert "pipeline fan completed" in result.stdout


def test_a_pipeline_in_a_project_file_and_its_step_logs(invoke, isolated_project: Path) -> None:
    (isolated_project / "cli_file_flow.py").write_text(
        "from loopml.pipelines import pipeline, step\n\n"
        "@step\n"
        "def greet(name: str) -> str:\n"
        "    print(f'hello from the step, {name}')\n"
        "    return 'hello ' + name\n\n"
        "@pipeline\n"
        "def hello(name: str = 'world'):\n"
        "    greet(name=name)\n"
    )
    result = invoke("run", "cli_file_flow.py:hello", "-p", "name=loopml")
    assert result.exit_code == 0, result.output
    record = _pipeline_runs()[0]
    (step,) = get_workspace().metadata.list_executions(type="step", parent_id=record.id)
    shown = invoke("runs", "show", step.id[:8])
    assert shown.exit_code == 0, shown.output
    assert "hello from the step, loopml" in shown.stdout
    assert "Logs" in shown.stdout
