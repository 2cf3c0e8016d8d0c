"""The public surface of loopml.models is pinned, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import loopml.models

EXPECTED = [
    "ARTIFACT_TYPE",
    "EXAMPLE_FILE",
    "FORMAT_VERSION",
    "LOGICAL_TYPES",
    "MANIFEST_FILE",
    "REQUIREMENTS_FILE",
    "TASKS",
    "ColumnSpec",
    "Flavor",
    "InfraCheck",
    "Lineage",
    "LoadedModel",
    "ModelManifest",
    "ModelPackageError",
    "Signature",
    "SignatureError",
    "export_model",
    "flavor_for",
    "flavors",
    "get_flavor",
    "infra_check",
    "load_model",
    "log_model",
    "read_package",
    "register_flavor",
    "save_model",
]


def test_all_is_pinned() -> None:
    assert loopml.models.__doc__
    assert sorted(loopml.models.__all__) == sorted(EXPECTED)
    for name in loopml.models.__all__:
        assert getattr(loopml.models, name) is not None, name


def test_importing_models_and_listing_flavors_imports_no_ml_library() -> None:
    code = (
        "import sys, loopml.models as m; m.flavors(); [m.get_flavor(n) for n in m.flavors()]; "
        "heavy = {'pandas', 'numpy', 'sklearn', 'skops', 'xgboost', 'lightgbm', 'onnx', "
        "'onnxruntime', 'pyarrow', 'sqlalchemy', 'yaml'}; print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_registered_flavor_is_listed_and_used() -> None:
    from pathlib import Path
    from typing import Any

    from loopml.models import Flavor, flavor_for, flavors, register_flavor
    from loopml.models.flavors.base import unregister_flavor

    class EchoFlavor(Flavor):
        name = "echo-test"
        file_name = "echo.txt"

        def handles(self, model: Any) -> bool:
            return model == "echo"

        def save(self, model: Any, folder: Path) -> dict[str, str]:
            return {}

        def load(self, folder: Path, manifest: Any, *, allow_pickle: bool) -> Any:
            return "echo"

        def predict(self, native: Any, frame: Any, manifest: Any) -> Any:
            return frame.iloc[:, 0]

        def predict_proba(self, native: Any, frame: Any, manifest: Any) -> Any:
            raise NotImplementedError

    register_flavor(EchoFlavor)
    try:
        assert flavors()[-1] == "echo-test"
        assert flavor_for("echo").name == "echo-test"
    finally:
        unregister_flavor("echo-test")
    assert "echo-test" not in flavors()
