"""Laws: fingerprints are equal exactly when small contents are; ``$$`` escapes ``$``."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopml.pipelines.catalog import FilesDataset, ParquetDataset
from loopml.pipelines.catalog.config import interpolate_env

contents = st.dictionaries(
    st.sampled_from(["a.txt", "b.bin", "sub/c.txt", "sub/deeper/d"]),
    st.binary(max_size=64),
    min_size=1,
    max_size=4,
)
LAW_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("backend", ["local", "memory"])
@LAW_SETTINGS
@given(first=contents, second=contents)
def test_folder_fingerprints_are_equal_iff_contents_are(
    backend: str, first: dict[str, bytes], second: dict[str, bytes]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = folder if backend == "local" else f"memory://laws/{uuid.uuid4().hex}"
        dataset = FilesDataset(f"{root}/files")
        dataset.save(first)
        fingerprint_first = dataset.fingerprint()
        dataset.save(second)
        assert (dataset.fingerprint() == fingerprint_first) == (first == second)
        assert dict(dataset.load()) == second
        if backend == "memory":
            import fsspec

            fsspec.filesystem("memory").rm(root, recursive=True)


@LAW_SETTINGS
@given(first=st.binary(max_size=256), second=st.binary(max_size=256))
def test_single_file_fingerprints_are_equal_iff_bytes_are(first: bytes, second: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        dataset = FilesDataset(folder)
        dataset.save({"blob": first})
        fingerprint_first = dataset.fingerprint()
        Path(folder, "blob").write_bytes(second)  # written by another tool, in place
        assert (dataset.fingerprint() == fingerprint_first) == (first == second)


def test_metadata_fingerprints_follow_every_change(isolated_project: Path) -> None:
    import pandas as pd

    dataset = ParquetDataset("f.parquet", fingerprint="metadata")
    seen = set()
    for value in range(20):  # same size, written faster than a coarse clock ticks
        dataset.save(pd.DataFrame({"x": [value]}))
        fingerprint = dataset.fingerprint()
        assert fingerprint == dataset.fingerprint()
        seen.add(fingerprint)
    assert len(seen) == 20
    content = ParquetDataset("f.parquet", fingerprint="content")
    assert content.fingerprint() == content.fingerprint()
    assert content.fingerprint() not in seen


def test_large_local_files_are_fingerprinted_by_metadata(
    isolated_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopml.pipelines.catalog import location

    monkeypatch.setattr(location, "CONTENT_HASH_LIMIT", 10)
    monkeypatch.setattr(location, "SAMPLE_BYTES", 4)
    dataset = FilesDataset("big")
    dataset.save({"f": b"0123456789abcdef"})
    before = dataset.fingerprint()
    path = Path("big/f")
    stat = path.stat()
    path.write_bytes(b"0123456789abcdeF")  # same size, in place: same inode
    import os

    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the clock did not tick
    assert dataset.fingerprint() != before  # the tail sample saw it
    path.write_bytes(b"0123456789abcdef")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert dataset.fingerprint() == before


def test_load_options_are_part_of_the_fingerprint(isolated_project: Path) -> None:
    from loopml.pipelines.catalog import CsvDataset

    Path("a.csv").write_text("x;y\n1;2\n")
    plain = CsvDataset("a.csv")
    semicolon = CsvDataset("a.csv", load_options={"sep": ";"})
    assert plain.fingerprint() != semicolon.fingerprint()
    assert CsvDataset("a.csv", save_options={"sep": ";"}).fingerprint() == plain.fingerprint()


@given(st.text())
def test_doubled_dollars_escape_interpolation(text: str) -> None:
    assert interpolate_env(text.replace("$", "$$"), {}) == text


@given(st.text(alphabet=st.characters(blacklist_characters="$")))
def test_text_without_dollars_is_left_alone(text: str) -> None:
    assert interpolate_env({"k": [text]}, {"HOME": "/x"}) == {"k": [text]}
