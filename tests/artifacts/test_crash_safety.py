"""A writer killed with SIGKILL at any moment leaves a whole, verified object or none."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import loopml.artifacts
from loopml.artifacts import ContentStore, LocalArtifactStore

SIZE = 8 * 1024 * 1024
KILLS = 8
KEY = "big/object"

WRITER = """
import sys
from loopml.artifacts import ContentStore, LocalArtifactStore

root, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = LocalArtifactStore(root)
content = ContentStore(store)
print("ready", flush=True)
n = 0
while True:
    data = n.to_bytes(8, "big") * (size // 8)
    if mode == "content":
        content.put_bytes(data)
    else:
        store.put_bytes(data, "big/object")
    n += 1
"""

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


def _run_and_kill(script: Path, root: Path, mode: str, delay: float) -> None:
    repo = Path(loopml.artifacts.__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]),
    }
    child = subprocess.Popen(
        [sys.executable, str(script), str(root), str(SIZE), mode],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL


def _visible_files(root: Path) -> set[str]:
    """Every file under the root except the temp folder, as keys."""
    found = set()
    for path in root.rglob("*"):
        relative = path.relative_to(root).as_posix()
        if path.is_file() and not relative.startswith(".tmp/"):
            found.add(relative)
    return found


def _expected(data: bytes) -> bytes:
    return data[:8] * (SIZE // 8)


def _check_content_store(root: Path) -> None:
    store = LocalArtifactStore(root)
    keys = set(store.list())
    assert _visible_files(root) == keys
    for key in keys:
        data = ContentStore(store).get_bytes(key.rsplit("/", 1)[1])  # verifies the digest
        assert len(data) == SIZE and data == _expected(data)


def _check_key(root: Path) -> None:
    store = LocalArtifactStore(root)
    assert _visible_files(root) <= {KEY}
    if store.exists(KEY):
        data = store.get_bytes(KEY)
        assert len(data) == SIZE and data == _expected(data)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["content", "key"])
def test_killed_writer_leaves_whole_objects_or_none(tmp_path: Path, mode: str) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = tmp_path / "store"
    rng = random.Random(f"crash-{mode}")  # reproducible kill times
    for attempt in range(KILLS):
        delay = rng.uniform(0.0, 0.4)
        _run_and_kill(script, root, mode, delay)
        try:
            (_check_content_store if mode == "content" else _check_key)(root)
        except AssertionError as exc:
            raise AssertionError(f"after kill {attempt} at {delay:.3f}s: {exc}") from exc
    interrupted = len(os.listdir(root / ".tmp")) if (root / ".tmp").exists() else 0
    print(f"{mode}: {interrupted} of {KILLS} kills interrupted a write")
