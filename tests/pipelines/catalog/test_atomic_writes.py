"""Writes are atomic: a failed save leaves the previous content and no temporary files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from loopml.pipelines.catalog import (
    CsvDataset,
    DatasetIOError,
    DatasetValueError,
    FilesDataset,
    ParquetDataset,
)
from loopml.pipelines.catalog.location import TEMP_PREFIX, Location


def _leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if TEMP_PREFIX in p.name]


def test_readers_see_the_old_file_until_the_new_one_is_complete(isolated_project: Path) -> None:
    location = Location("data/x.txt", base_dir=isolated_project)
    location.write_file(lambda temp: Path(temp).write_text("old"))
    seen = []

    def fill(temp: str) -> None:
        assert Path(temp).name == "x.txt"  # same name: pandas infers the same compression
        Path(temp).write_text("new, half")
        seen.append((isolated_project / "data" / "x.txt").read_text())
        Path(temp).write_text("new")

    location.write_file(fill)
    assert seen == ["old"]
    assert (isolated_project / "data" / "x.txt").read_text() == "new"
    assert _leftovers(isolated_project) == []


def test_a_failed_file_save_keeps_the_old_file(isolated_project: Path) -> None:
    dataset = CsvDataset("data/f.csv")
    dataset.save(pd.DataFrame({"x": [1]}))

    def broken(temp: str) -> None:
        Path(temp).write_text("x\n2\n")
        raise OSError("disk full")

    with pytest.raises(DatasetIOError, match="disk full"):
        dataset.location.write_file(broken)
    assert dataset.load()["x"].tolist() == [1]
    assert _leftovers(isolated_project) == []


def test_a_failed_folder_save_keeps_the_old_folder(isolated_project: Path) -> None:
    dataset = FilesDataset("out/reports")
    dataset.save({"a.txt": b"old"})
    with pytest.raises(DatasetIOError):
        # The second file cannot be copied, after the first was written to the stage.
        dataset.save({"a.txt": b"new", "b.txt": Path("no/such/file")})
    assert dict(dataset.load()) == {"a.txt": b"old"}
    assert _leftovers(isolated_project) == []


def test_a_folder_save_replaces_the_whole_folder(isolated_project: Path) -> None:
    dataset = FilesDataset("out/reports")
    dataset.save({"a.txt": b"1", "sub/b.txt": b"2"})
    source = isolated_project / "model.bin"
    source.write_bytes(b"\x00\x01")
    dataset.save({"c.txt": "text", "model.bin": source})
    assert dict(dataset.load()) == {"c.txt": b"text", "model.bin": b"\x00\x01"}
    assert not (isolated_project / "out" / "reports" / "sub").exists()


def test_a_failed_save_on_memory_keeps_the_old_file(memory_root: str) -> None:
    dataset = ParquetDataset(f"{memory_root}/f.parquet")
    dataset.save(pd.DataFrame({"x": [1]}))

    def broken(temp: str) -> None:
        raise OSError("network down")

    with pytest.raises(DatasetIOError):
        dataset.location.write_file(broken)
    assert dataset.load()["x"].tolist() == [1]


@pytest.mark.parametrize(
    "name",
    ["../escape.txt", "/etc/passwd", "a/../../b", "a\\b", "", "a//b", "x/", "ok/%2e%2e/x"],
)
def test_file_names_are_confined_to_the_folder(isolated_project: Path, name: str) -> None:
    dataset = FilesDataset("out/reports")
    with pytest.raises(DatasetValueError):
        dataset.save({name: b"x"})
    assert not (isolated_project / "out").exists()
    assert not (isolated_project / "escape.txt").exists()


def test_a_name_cannot_be_both_a_file_and_a_folder(isolated_project: Path) -> None:
    with pytest.raises(DatasetValueError, match="both a file and a folder"):
        FilesDataset("out").save({"a": b"1", "a/b": b"2"})
    with pytest.raises(DatasetValueError, match="must be bytes, str or a Path"):
        FilesDataset("out").save({"a": 3})


def test_a_file_in_the_way_of_a_folder_is_an_io_error(isolated_project: Path) -> None:
    Path("out").write_text("not a folder")
    with pytest.raises(DatasetIOError):
        FilesDataset("out").save({"a": b"1"})
    with pytest.raises(DatasetIOError):
        ParquetDataset("out/x.parquet").save(pd.DataFrame({"x": [1]}))
    assert Path("out").read_text() == "not a folder"


def test_a_corrupt_file_is_an_io_error_not_a_crash(isolated_project: Path) -> None:
    Path("f.parquet").write_bytes(b"not parquet")
    with pytest.raises(DatasetIOError, match="cannot read"):
        ParquetDataset("f.parquet").load()
    Path("f.csv.zip").write_bytes(b"not a zip")
    with pytest.raises(DatasetIOError):
        CsvDataset("f.csv.zip").load()


def test_an_unknown_protocol_is_refused_when_built() -> None:
    from loopml.pipelines.catalog import DatasetConfigError

    with pytest.raises(DatasetConfigError, match=r"no protocol 'mmeory'.*did you mean 'memory'"):
        CsvDataset("mmeory://bucket/f.csv")


def test_a_missing_backend_library_is_a_config_error(isolated_project: Path) -> None:
    import importlib.util

    from loopml.pipelines.catalog import DatasetConfigError

    if importlib.util.find_spec("gcsfs") is not None:
        pytest.skip("gcsfs is installed here")
    dataset = CsvDataset("gs://bucket/f.csv")
    with pytest.raises(DatasetConfigError, match="gcsfs") as caught:
        dataset.exists()
    assert caught.value.field == "path"
    assert os.listdir(isolated_project) == []
