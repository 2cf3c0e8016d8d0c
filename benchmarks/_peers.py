"""Peers for side-by-side benchmarks: each in its own virtualenv, pinned, run as a subprocess.

A peer (MLflow, Feast, ...) never goes into loopml's environment: it gets a
virtualenv under ``benchmarks/.peers/<name>`` (gitignored), created on first
use with pinned requirements and reused while the pins stay the same. A peer
script runs in it and prints its timings as one JSON object on the last line
of its standard output; its progress goes to standard error.

Run ``python benchmarks/_peers.py mlflow`` to install a peer ahead of time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / ".peers"
MARKER = "loopml-peer.json"

PEERS: dict[str, list[str]] = {
    # 3.18.0 is listed on the index, but its mlflow-skinny is not served here.
    "mlflow": ["mlflow==3.17.2"],
    # Feast 0.67 needs pandas < 3; the extra brings its duckdb offline store.
    "feast": ["feast[duckdb]==0.67.0", "pandas<3"],
    # polars only for the benchmark's bare join_asof limit (loopml does not depend on it).
    "polars": ["polars==2.1.0", "pyarrow"],
    # Evidently 0.7 does not import with pandas 3.
    "evidently": ["evidently==0.7.23", "pandas==2.3.3", "pyarrow"],
    # Validation peers get loopml's pandas, NumPy and pyarrow: the same kernels underneath.
    "pandera": ["pandera==0.35.0", "pandas==3.1.1", "numpy==2.4.6", "pyarrow==26.0.1"],
    "great_expectations": [
        "great_expectations==1.24.1",
        "pandas==3.1.1",
        "numpy==2.4.6",
        "pyarrow==26.0.1",
    ],
    # The KServe client of the serving tests (MLflow's client runs in the mlflow peer):
    # kserve 0.21 needs pandas < 3, so it cannot go into loopml's environment.
    "kserve": ["kserve==0.21.0"],
}

# Quiet, offline-safe MLflow: a failing HTTP call must fail fast, not retry for minutes.
MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
}


class PeerError(RuntimeError):
    """The peer could not be installed or did not run; the message says why."""


def peer_python(name: str) -> Path:
    """The interpreter of a peer's virtualenv (which may not exist yet)."""
    return PEERS_DIR / name / "bin" / "python"


def ensure_peer(name: str, *, log: Any = None) -> Path:
    """Create (or reuse) the virtualenv of peer ``name``; return its interpreter.

    Raises:
        PeerError: if pip cannot install the pinned requirements.
    """
    requirements = PEERS[name]
    root = PEERS_DIR / name
    marker = root / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("requirements") == requirements:
        return peer_python(name)
    say = log or (lambda text: print(text, file=sys.stderr))
    say(f"installing peer {name} ({' '.join(requirements)}) in {root} - this takes minutes once")
    venv.EnvBuilder(clear=True, with_pip=True).create(root)
    command = [str(peer_python(name)), "-m", "pip", "install", "--quiet", *requirements]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise PeerError(f"pip could not install {' '.join(requirements)}:\n{tail}")
    marker.write_text(json.dumps({"requirements": requirements}, indent=2) + "\n")
    return peer_python(name)


def run_peer(
    name: str,
    script: Path,
    config: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
) -> dict[str, Any]:
    """Run ``script`` in peer ``name``'s virtualenv with ``config`` as JSON on stdin.

    Returns:
        The JSON object the script printed last on stdout.

    Raises:
        PeerError: if the script fails or prints no JSON.
    """
    python = peer_python(name)
    full_env = {**os.environ, **(env or {})}
    # The peer must not see loopml's virtualenv.
    full_env.pop("VIRTUAL_ENV", None)
    full_env.pop("PYTHONPATH", None)
    try:
        done = subprocess.run(
            [str(python), str(script)],
            input=json.dumps(config),
            stdout=subprocess.PIPE,
            stderr=None,  # progress goes straight to the terminal
            text=True,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PeerError(f"{script.name} did not finish in {timeout:.0f} s") from exc
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise PeerError(f"{script.name} exited with {done.returncode}")
    try:
        return json.loads(lines[-1])  # type: ignore[no-any-return]
    except json.JSONDecodeError as exc:
        raise PeerError(f"{script.name} printed no JSON: {lines[-1][:200]!r}") from exc


if __name__ == "__main__":
    for peer in sys.argv[1:] or list(PEERS):
        try:
            print(ensure_peer(peer))
        except PeerError as error:
            print(error, file=sys.stderr)
            sys.exit(1)
