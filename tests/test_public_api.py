"""The public surface of ``loopml`` is pinned: a change here is a decision, not an accident."""

from __future__ import annotations

import subprocess
import sys

import loopml

EXPECTED = [
    "ActiveRun",
    "LoopMLError",
    "Settings",
    "Workspace",
    "__version__",
    "active_run",
    "autolog",
    "end_run",
    "flush",
    "get_metric_history",
    "get_run",
    "get_workspace",
    "list_experiments",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_object",
    "log_param",
    "log_params",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
]


def test_all_is_pinned() -> None:
    assert sorted(loopml.__all__) == sorted(EXPECTED)


def test_every_exported_name_resolves() -> None:
    for name in loopml.__all__:
        assert getattr(loopml, name) is not None, name


def test_subpackages_declare_their_public_names() -> None:
    import importlib

    packages = ("core", "reports", "metadata", "artifacts", "workspace", "tracking", "validation")
    for package in packages:
        module = importlib.import_module(f"loopml.{package}")
        assert module.__doc__, f"loopml.{package} opens with a docstring"
        for name in module.__all__:
            assert hasattr(module, name), f"loopml.{package}.{name}"


def test_import_loopml_stays_light() -> None:
    code = (
        "import sys, loopml; heavy = {'sqlalchemy', 'pandas', 'numpy', 'sklearn', 'pyarrow', "
        "'fsspec', 'alembic', 'yaml', 'rich', 'typer'}; print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
