"""The root command: help, version, python -m, global options, and the error boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "pandas", "sklearn", "numpy", "pyarrow", "alembic")

_PROBE = """
import sys
sys.argv = ["loopml", *sys.argv[1:]]
from loopml.cli.main import main
try:
    main()
except SystemExit:
    pass
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["runs", "--help"],
        ["runs", "resume", "--help"],
        ["run", "--help"],
        ["pipelines", "--help"],
        ["pipelines", "show", "--help"],
        ["quickstart", "--help"],
        ["lineage", "--help"],
        [],
    ],
)
def test_help_imports_no_heavy_package(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "Usage" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "HEAVY="


def test_python_dash_m_loopml_runs_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "loopml", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for command in ("runs", "artifacts", "lineage", "db", "quickstart", "version"):
        assert command in done.stdout
    assert done.stderr == ""


def test_help_lists_commands(invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "pipelines", "runs", "artifacts", "lineage", "db", "quickstart"):
        assert command in result.stdout


def test_no_arguments_shows_help(invoke) -> None:
    result = invoke()
    assert "Usage" in result.output


def test_version_names_loopml_python_and_packages(invoke) -> None:
    import platform

    import loopml

    result = invoke("version")
    assert result.exit_code == 0
    assert f"loopml {loopml.__version__}" in result.stdout
    assert f"Python {platform.python_version()}" in result.stdout
    for package in ("sqlalchemy", "pandas", "scikit-learn", "typer"):
        assert package in result.stdout


def test_bad_config_is_one_line_and_exit_2(invoke, isolated_project: Path) -> None:
    (isolated_project / "loopml.yaml").write_text("metadata_url: sqlite:///x.db\n")
    result = invoke("runs", "list")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "unknown setting 'metadata_url'" in lines[0]
    assert "did you mean 'metadata_uri'" in lines[0]
    assert "Traceback" not in result.output


def test_unsupported_metadata_uri_is_exit_2(invoke) -> None:
    result = invoke("runs", "list", LOOPML_METADATA_URI="mysql://db/loopml")
    assert result.exit_code == 2
    assert "unsupported database" in result.stderr


def test_bad_artifact_options_is_exit_2(invoke) -> None:
    result = invoke("runs", "list", LOOPML_ARTIFACT_OPTIONS="{not json")
    assert result.exit_code == 2
    assert "LOOPML_ARTIFACT_OPTIONS must be a JSON object" in result.stderr


def test_backend_failure_is_exit_1_without_traceback(invoke, isolated_project: Path) -> None:
    home = isolated_project / ".loopml"
    home.mkdir()
    (home / "metadata.db").write_bytes(b"this is not a database" * 100)
    result = invoke("runs", "list")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


def test_project_dir_option_picks_the_project(invoke, project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    here = Path.cwd()
    empty = invoke("--project-dir", str(elsewhere), "runs", "list")
    assert empty.exit_code == 0
    assert "No runs yet" in empty.stdout
    found = invoke("-C", str(here), "runs", "list")
    assert project.good[:8] in found.stdout


def test_metadata_uri_option_overrides_the_store(invoke, project, tmp_path: Path) -> None:
    result = invoke("--metadata-uri", f"sqlite:///{tmp_path / 'other.db'}", "runs", "list")
    assert result.exit_code == 0
    assert "No runs yet" in result.stdout


def test_suggested_commands_name_the_script_when_loopml_is_not_on_path(
    isolated_project, monkeypatch
) -> None:
    """`make quickstart` runs .venv/bin/loopml unactivated: hints must be copy-pasteable."""
    import shutil
    import sys

    from loopml.cli.state import command_prefix

    script = isolated_project / ".venv" / "bin" / "loopml"
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    from loopml.cli import state

    ctx = object()

    monkeypatch.setattr(state, "get_state", lambda _ctx: type("S", (), {"project_dir": None})())
    assert command_prefix(ctx) == ".venv/bin/loopml"  # type: ignore[arg-type]
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/local/bin/loopml")
    assert command_prefix(ctx) == "loopml"  # type: ignore[arg-type]
