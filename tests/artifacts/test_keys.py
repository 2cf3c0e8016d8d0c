"""Key confinement: whatever the input, a key is refused or stays inside the store's root."""

from __future__ import annotations

import os
import posixpath
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loopml.artifacts import (
    ArtifactConflictError,
    FsspecArtifactStore,
    InvalidKeyError,
    LocalArtifactStore,
    normalize_key,
)
from loopml.artifacts.keys import normalize_prefix, resolve_inside

BAD_KEYS = [
    "",
    "/",
    "/etc/passwd",
    "..",
    ".",
    "...",
    "../x",
    "a/../../b",
    "a/./b",
    "./a",
    "a//b",
    "a/",
    "a\\b",
    "..\\..\\windows",
    "%2e%2e%2fetc%2fpasswd",
    "%2E%2E/x",
    "a%2fb",
    "%252e%252e%252f",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    "\u202egnp.exe",  # right-to-left override
    "a\u200bb",  # zero-width space
    "a\u2028b",  # line separator
    "\uff0e\uff0e\uff0fetc",  # fullwidth ../
    "a\uff0fb",
    "\u2024\u2024/x",  # one dot leaders fold to '..'
    "\ud800",  # lone surrogate
    "\U000f0000",  # private use
    " a",
    "a ",
    "a/ b/c",
    "*",
    "a?b",
    "[x]",
    ".tmp/x",
    ".tmp",
    "x" * 1025,
    "a/" + "b" * 256,
]

GOOD_KEYS = [
    "a",
    "a/b/c.txt",
    "sha256/ab/" + "ab" * 32,
    "donn\u00e9es/\u00e9t\u00e9.csv",
    ".hidden/x",
    "a..b",
    "v1.",
    "run 1/x y.txt",
    "100%",
    "a%zz",
    "tmp/.tmp",
    ".tmpx/y",
    "\U0001f4e6/model",
    "C:x",
    "~/x",
    "x" * 255,
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKeyError):
        normalize_key(key)


@pytest.mark.parametrize("key", [None, b"a", 1, Path("a")])
def test_keys_must_be_str(key: object) -> None:
    with pytest.raises(InvalidKeyError):
        normalize_key(key)


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_good_keys_are_kept(key: str) -> None:
    assert normalize_key(key) == key


def test_keys_are_returned_in_nfc() -> None:
    assert normalize_key("e\u0301") == "\u00e9"


def test_prefixes() -> None:
    assert normalize_prefix("") == ""
    assert normalize_prefix("runs/") == "runs/"
    assert normalize_prefix("runs/4") == "runs/4"
    for bad in ["/", "runs//", "../", "a/../"]:
        with pytest.raises(InvalidKeyError):
            normalize_prefix(bad)


def test_resolve_inside_refuses_the_root_itself(tmp_path: Path) -> None:
    with pytest.raises(InvalidKeyError):
        resolve_inside(tmp_path, ".")


# --- properties -------------------------------------------------------------------

PIECES = [
    "a",
    "b.txt",
    "/",
    "//",
    ".",
    "..",
    "...",
    "\\",
    "%",
    "%2e",
    "%2E",
    "%2f",
    "%5c",
    "%25",
    "%00",
    "\x00",
    "\uff0e",
    "\uff0f",
    "\u2024",
    "\u2215",
    "\u200b",
    " ",
    "~",
    ":",
    "C:",
    ".tmp",
    "e\u0301",
    "escape",  # in the sandbox below: a symlink to a folder outside the root
    "inner",  # in the sandbox below: a symlink to a folder inside the root
]
dangerous_keys = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join)
path_like_keys = st.lists(
    st.from_regex(r"(escape|inner|[A-Za-z0-9._~ %-]{1,8})", fullmatch=True), min_size=1, max_size=4
).map("/".join)
any_keys = st.one_of(st.text(max_size=60), dangerous_keys, path_like_keys)


def _accepted(key: str) -> str | None:
    try:
        return normalize_key(key)
    except InvalidKeyError:
        return None


@settings(max_examples=400)
@given(any_keys)
def test_accepted_keys_are_plain_relative_paths(key: str) -> None:
    normal = _accepted(key)
    if normal is None:
        return
    assert normal == posixpath.normpath(normal)
    assert not normal.startswith("/")
    assert ".." not in normal.split("/")
    assert "\\" not in normal and "\x00" not in normal
    assert unquote(unquote(normal)) == normal
    assert unicodedata.normalize("NFKC", normal) == normal
    assert normalize_key(normal) == normal


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A store root holding symlinks, and a sibling folder that nothing may ever reach."""
    base = tmp_path_factory.mktemp("confinement")
    root, outside = base / "root", base / "outside"
    outside.mkdir()
    (root / "sub").mkdir(parents=True)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "sub", target_is_directory=True)
    yield root, outside
    assert list(outside.iterdir()) == [], "a write escaped the store's root"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(any_keys)
def test_local_writes_stay_inside_the_root(sandbox: tuple[Path, Path], key: str) -> None:
    root, _ = sandbox
    store = LocalArtifactStore(root)
    try:
        store.put_bytes(b"x", key)
    except InvalidKeyError:
        return
    except ArtifactConflictError:  # a folder, or an object written earlier, is in the way
        return
    normal = normalize_key(key)
    real = Path(os.path.realpath(root / normal))
    assert real.is_relative_to(os.path.realpath(root))
    assert real.read_bytes() == b"x"
    assert normal.split("/")[0] != "escape"


@settings(max_examples=150)
@given(any_keys)
def test_memory_keys_round_trip(key: str) -> None:
    store = FsspecArtifactStore(f"memory://loopml-keys/{uuid.uuid4().hex}")
    try:
        store.put_bytes(b"x", key)
    except InvalidKeyError:
        return
    assert list(store.list()) == [normalize_key(key)]
    assert store.get_bytes(key) == b"x"
    store.delete(key)
