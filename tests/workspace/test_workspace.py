"""The workspace writes bytes first, then metadata; it loads only verified bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopml.core.errors import IntegrityError, InvalidInputError, NotFoundError
from loopml.workspace import Workspace


def test_save_and_load_objects(workspace: Workspace) -> None:
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})
    for obj in (frame, np.arange(6).reshape(2, 3), {"k": [1, 2]}, "text", b"bytes"):
        artifact = workspace.save(obj)
        loaded = workspace.load(artifact.id[:12])
        if isinstance(obj, pd.DataFrame):
            pd.testing.assert_frame_equal(loaded, obj)
        elif isinstance(obj, np.ndarray):
            np.testing.assert_array_equal(loaded, obj)
        else:
            assert loaded == obj
        assert artifact.properties["materializer"]


def test_same_bytes_are_one_artifact(workspace: Workspace) -> None:
    first = workspace.save({"a": 1})
    second = workspace.save({"a": 1})
    assert first.id == second.id


def test_save_path_file_and_folder(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 100)
    (folder / "sub" / "conf.json").write_text("{}")
    artifact = workspace.save_path(folder)
    assert artifact.type == "directory"
    restored = workspace.export(artifact.id, tmp_path / "restored")
    assert (restored / "weights.bin").read_bytes() == b"\x00\x01" * 100
    assert (restored / "sub" / "conf.json").read_text() == "{}"
    single = workspace.save_path(folder / "weights.bin")
    assert single.type == "file" and single.size == 200
    with pytest.raises(InvalidInputError, match="not a saved object"):
        workspace.load(single.id)
    with pytest.raises(NotFoundError):
        workspace.save_path(tmp_path / "missing")


def test_a_flipped_byte_is_an_integrity_error(workspace: Workspace) -> None:
    artifact = workspace.save("precious text")
    stored = Path(artifact.uri.removeprefix("file://"))
    assert stored.is_file()
    data = bytearray(stored.read_bytes())
    data[0] ^= 0xFF
    stored.chmod(0o644)
    stored.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        workspace.load(artifact.id)


def test_unknown_types_are_refused_before_anything_is_written(workspace: Workspace) -> None:
    class Opaque:
        pass

    with pytest.raises(InvalidInputError):
        workspace.save(Opaque())
    assert workspace.metadata.list_artifacts() == []
