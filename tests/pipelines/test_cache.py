"""Cache keys: equal inputs give equal keys everywhere; any single change gives another key."""

from __future__ import annotations

import subprocess
import sys

from flows import featurize, make_data, train
from hypothesis import given
from hypothesis import strategies as st

from loopml.pipelines import cache_key, code_fingerprint

digests = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
params = st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5), st.booleans()),
    max_size=4,
)
BASE = {
    "code": "c" * 64,
    "params": {"rows": 10},
    "inputs": {"data": "d" * 64},
    "materializers": {"json": 1},
    "loopml_version": "0.1.0",
}


@given(params, st.dictionaries(st.text(min_size=1, max_size=5), digests, max_size=3))
def test_equal_inputs_equal_keys_whatever_the_order(
    p: dict[str, object], inputs: dict[str, str]
) -> None:
    one = cache_key(
        code="x", params=p, inputs=inputs, materializers={"a": 1, "b": 2}, loopml_version="1"
    )
    two = cache_key(
        code="x",
        params=dict(reversed(list(p.items()))),
        inputs=dict(reversed(list(inputs.items()))),
        materializers={"b": 2, "a": 1},
        loopml_version="1",
    )
    assert one == two


@given(
    st.sampled_from(["code", "params", "inputs", "materializers", "loopml_version"]),
    st.text(min_size=1, max_size=8),
)
def test_any_single_change_changes_the_key(field: str, salt: str) -> None:
    changed = dict(BASE)
    value = changed[field]
    if isinstance(value, dict):
        changed[field] = {**value, "changed": salt}
    else:
        changed[field] = f"{value}{salt}"
    assert cache_key(**changed) != cache_key(**BASE)  # type: ignore[arg-type]


def test_keys_are_equal_across_processes_and_hash_seeds() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from flows import train; from loopml.pipelines import code_fingerprint, cache_key;"
        "print(cache_key(code=code_fingerprint(train.fn), params={'c': 1.0, 'z': [1, 2]},"
        " inputs={'data': 'a' * 64}, materializers={'skops': 1}, loopml_version='0.1.0'))"
    )
    from pathlib import Path

    folder = str(Path(__file__).parent)
    keys = {
        subprocess.run(
            [sys.executable, "-c", code, folder],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout.strip()
        for seed in ("0", "7", "random")
    }
    assert len(keys) == 1


def test_code_fingerprint_follows_project_helpers() -> None:
    # featurize calls the module's _scale helper; its source is part of the fingerprint.
    import flows

    before = code_fingerprint(featurize.fn)
    original = flows._scale
    try:

        def _scale(frame):  # a different helper under the same name
            return frame * 2

        flows._scale = _scale
        assert code_fingerprint(featurize.fn) != before
    finally:
        flows._scale = original
    assert code_fingerprint(featurize.fn) == before
    assert code_fingerprint(make_data.fn) != code_fingerprint(train.fn)


def test_constants_and_module_helpers_are_part_of_the_code(tmp_path, monkeypatch) -> None:
    """Regression: editing a module constant or a helper used as module.f kept the old key."""
    import importlib

    (tmp_path / "helpers_x.py").write_text("def transform(x):\n    return x + 1\n")
    (tmp_path / "steps_x.py").write_text(
        "import helpers_x\nSCALE = 2\n\n"
        "def compute(x):\n    return helpers_x.transform(x) * SCALE\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    steps_x = importlib.import_module("steps_x")
    first = code_fingerprint(steps_x.compute)
    assert code_fingerprint(steps_x.compute) == first
    monkeypatch.setattr(steps_x, "SCALE", 3)
    scaled = code_fingerprint(steps_x.compute)
    assert scaled != first
    (tmp_path / "helpers_x.py").write_text("def transform(x):\n    return x + 100\n")
    assert code_fingerprint(steps_x.compute) not in (first, scaled)
