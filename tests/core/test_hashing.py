from __future__ import annotations

import hashlib
import io
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from loopml.core.hashing import canonical_json, is_digest, sha256_bytes, sha256_stream, stable_hash

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.binary())
def test_sha256_matches_hashlib_for_bytes_and_streams(data: bytes) -> None:
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_bytes(data) == expected
    assert sha256_stream(io.BytesIO(data)) == (expected, len(data))
    assert is_digest(expected)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_stable_hash_ignores_key_order(value: dict[str, object]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert stable_hash(value) == stable_hash(reordered)


@given(json_values, json_values)
def test_different_values_hash_differently(a: object, b: object) -> None:
    if canonical_json(a) != canonical_json(b):
        assert stable_hash(a) != stable_hash(b)


def test_stable_hash_is_equal_across_processes_and_hash_seeds() -> None:
    value = {"b": [1, 2.5, float("nan")], "a": {"x": None, "y": "z"}, "c": {3, 1, 2}}
    code = (
        "from loopml.core.hashing import stable_hash;"
        "print(stable_hash({'b': [1, 2.5, float('nan')], 'a': {'x': None, 'y': 'z'},"
        " 'c': {3, 1, 2}}))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("0", "1", "12345")
    }
    assert seen == {stable_hash(value)}
