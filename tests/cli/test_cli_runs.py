"""``loopml runs list|show|compare``."""

from __future__ import annotations

import pytest

from loopml.workspace import get_workspace


def test_list_shows_runs_newest_first(invoke, project) -> None:
    result = invoke("runs", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 runs" in out
    for run_id in (project.prepare, project.good, project.bad, project.failed):
        assert run_id[:8] in out
    assert (
        out.index(project.failed[:8]) < out.index(project.good[:8]) < out.index(project.prepare[:8])
    )
    assert "experiment" in out  # two experiments: the column is shown
    assert "scratch" in out
    assert "failed" in out
    assert "auc" in out and "0.74" in out


def test_list_in_one_experiment_names_it_in_the_title(invoke, project) -> None:
    result = invoke("runs", "list", "--experiment", "flights")
    assert result.exit_code == 0
    assert "3 runs in flights" in result.stdout
    assert project.failed[:8] not in result.stdout


def test_list_filter_order_and_limit(invoke, project) -> None:
    result = invoke(
        "runs", "list", "--filter", "metrics.auc > 0.5", "--order-by", "metrics.auc ASC"
    )
    assert result.exit_code == 0
    out = result.stdout
    assert out.index(project.bad[:8]) < out.index(project.good[:8])
    assert project.prepare[:8] not in out
    limited = invoke("runs", "list", "-f", "params.model = 'hgb'", "-n", "1")
    assert project.good[:8] in limited.stdout
    assert "1 run in flights" in limited.stdout


def test_list_chosen_metric_columns(invoke, project) -> None:
    result = invoke("runs", "list", "-m", "loss", "-e", "flights")
    assert "loss" in result.stdout
    assert "0.42" in result.stdout


def test_list_empty_store(invoke) -> None:
    result = invoke("runs", "list")
    assert result.exit_code == 0
    assert "No runs yet" in result.stdout


def test_list_no_match(invoke, project) -> None:
    result = invoke("runs", "list", "-f", "metrics.auc > 2")
    assert result.exit_code == 0
    assert "No runs match" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "metrics.auc >"], "bad filter"),
        (["--filter", "metrics.auc > 0.5 params.x = '1'"], "missing AND/OR"),
        (["--filter", "colour = 'red'"], "unknown attribute"),
        (["--order-by", "metrics.auc SIDEWAYS"], "order clause"),
        (["--experiment", "nope"], "no experiment named 'nope'"),
    ],
)
def test_list_bad_input_is_one_red_line_and_exit_2(invoke, project, args, message) -> None:
    result = invoke("runs", "list", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


def test_show_prints_everything_about_a_run(invoke, project) -> None:
    result = invoke("runs", "show", project.good[:8])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert project.good in out
    assert "flights" in out and "completed" in out
    assert "Params" in out and "hgb" in out
    assert "Metrics" in out and "0.74" in out
    assert "3 points" in out and "min 0.61" in out  # the auc series
    assert "Tags" in out and "team" in out and "core" in out
    assert "Inputs" in out and "train" in out and project.table[:12] in out
    assert "Outputs" in out and "model" in out and project.model[:12] in out
    assert "python" in out and "git commit" in out
    assert "Error" not in out


def test_show_accepts_the_full_id_and_uppercase(invoke, project) -> None:
    assert invoke("runs", "show", project.good).exit_code == 0
    assert invoke("runs", "show", project.good[:10].upper()).exit_code == 0


def test_show_failed_run_prints_its_traceback(invoke, project) -> None:
    result = invoke("runs", "show", project.failed)
    assert result.exit_code == 0
    assert "failed" in result.stdout
    assert "Error" in result.stdout
    assert "RuntimeError: the data was empty" in result.stdout
    assert "Traceback" in result.stdout


@pytest.mark.parametrize(
    ("run_id", "message"),
    [
        ("0123456789abcdef0123456789abcdef", "no run with id"),
        ("ffffff", "no run with id"),
        ("abc", "not a valid run id"),
        ("not-an-id!", "not a valid run id"),
    ],
)
def test_show_bad_id_is_exit_2(invoke, project, run_id, message) -> None:
    result = invoke("runs", "show", run_id)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_show_ambiguous_prefix_is_exit_2(invoke, isolated_project) -> None:
    store = get_workspace().metadata
    for last in "12":
        store.create_execution("run", "twin", execution_id="abcdef" + "0" * 25 + last)
    result = invoke("runs", "show", "abcdef")
    assert result.exit_code == 2
    assert "ambiguous" in result.stderr
    assert invoke("runs", "show", "abcdef" + "0" * 25 + "2").exit_code == 0


def test_show_refuses_an_execution_that_is_not_a_run(invoke, isolated_project) -> None:
    execution = get_workspace().metadata.create_execution("deployment", "serve")
    result = invoke("runs", "show", execution.id)
    assert result.exit_code == 2
    assert f"{execution.id} is a deployment execution, not a run" in result.stderr


def test_compare_shows_params_and_metrics_side_by_side(invoke, project) -> None:
    result = invoke("runs", "compare", project.good[:8], project.bad[:8])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Comparing 2 runs" in out
    assert "good" in out and "bad" in out
    assert "params (2)" in out and "metrics (2)" in out
    for value in ("hgb", "lr", "0.74", "0.55", "0.42"):
        assert value in out


def test_compare_highlights_differences(invoke, project) -> None:
    result = invoke("runs", "compare", project.good[:8], project.bad[:8], FORCE_COLOR="1")
    lines = result.stdout.splitlines()
    model_line = next(line for line in lines if "hgb" in line)
    lr_line = next(line for line in lines if "0.1" in line)
    assert "\x1b[1;33m" in model_line  # differs: bold yellow
    assert "\x1b[1;33m" not in lr_line  # same in both runs


def test_compare_diff_only_hides_equal_values(invoke, project) -> None:
    result = invoke("runs", "compare", "--diff-only", project.good[:8], project.bad[:8])
    assert result.exit_code == 0
    assert "params (1)" in result.stdout
    assert "loss" not in result.stdout  # 0.42 in both
    assert "auc" in result.stdout


def test_compare_needs_two_runs(invoke, project) -> None:
    result = invoke("runs", "compare", project.good)
    assert result.exit_code == 2
    assert "two or more" in result.stderr


def test_compare_unknown_run_is_exit_2(invoke, project) -> None:
    result = invoke("runs", "compare", project.good, "ffffffff")
    assert result.exit_code == 2
    assert "no run with id 'ffffffff'" in result.stderr
