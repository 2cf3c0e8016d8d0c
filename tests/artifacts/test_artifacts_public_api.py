"""The public surface of loopml.artifacts, pinned, and its import cost."""

from __future__ import annotations

import subprocess
import sys

import loopml.artifacts
from loopml.artifacts import ArtifactError, ArtifactStore
from loopml.core.errors import (
    BackendError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    LoopMLError,
    NotFoundError,
)

PUBLIC = [
    "ArtifactBackendError",
    "ArtifactConflictError",
    "ArtifactError",
    "ArtifactIntegrityError",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "Blob",
    "ContentStore",
    "FsspecArtifactStore",
    "InvalidKeyError",
    "LocalArtifactStore",
    "Materializer",
    "MaterializerError",
    "MaterializerNotFoundError",
    "S3ArtifactStore",
    "artifact_store_from_uri",
    "content_key",
    "get_materializer",
    "materializer_for",
    "normalize_key",
    "qualified_type_name",
    "register_materializer",
]


def test_all_is_pinned() -> None:
    assert loopml.artifacts.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(loopml.artifacts, name).__doc__, f"{name} needs a docstring"
    assert loopml.artifacts.__doc__


def test_errors_are_also_the_generic_kinds() -> None:
    a = loopml.artifacts
    assert issubclass(ArtifactError, LoopMLError)
    expected = {
        a.InvalidKeyError: InvalidInputError,
        a.ArtifactNotFoundError: NotFoundError,
        a.ArtifactConflictError: ConflictError,
        a.ArtifactIntegrityError: IntegrityError,
        a.ArtifactBackendError: BackendError,
        a.MaterializerError: InvalidInputError,
        a.MaterializerNotFoundError: NotFoundError,
    }
    for error, generic in expected.items():
        assert issubclass(error, ArtifactError) and issubclass(error, generic)
        assert error("x").error_code != generic("x").error_code


def test_store_interface_stays_small() -> None:
    assert len(ArtifactStore.__abstractmethods__) <= 7


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, loopml.artifacts\n"
        "heavy = {'pandas', 'pyarrow', 'numpy', 'fsspec', 's3fs', 'skops', 'sklearn',"
        " 'botocore', 'boto3'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
