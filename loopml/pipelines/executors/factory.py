"""Choose an executor from a URI, by scheme.

================================  ==================================================
URI                               executor
================================  ==================================================
``local``                         :class:`LocalExecutor`
``process``                       :class:`ProcessExecutor`, one worker per CPU
``process://?workers=4``          the same with 4 workers
``ray``                           :class:`RayExecutor` on a local Ray cluster
``ray://?cpus=4``                 the same with 4 CPUs
``ray:auto``                      the Ray cluster started on this machine with ``ray start``
``ray://host:10001``              a remote Ray cluster, through Ray Client
``dask``                          :class:`DaskExecutor` on a local cluster
``dask://?workers=4``             the same with 4 worker processes
``dask://host:8786``              the Dask scheduler at ``tcp://host:8786``
``tcp://host:8786``, ``tls://…``  the Dask scheduler at that address
================================  ==================================================

Nothing is started or connected here, and no engine package is imported.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from loopml.core.errors import ConfigError
from loopml.pipelines.executors.base import Executor
from loopml.pipelines.executors.dask import DaskExecutor
from loopml.pipelines.executors.local import LocalExecutor
from loopml.pipelines.executors.process import ProcessExecutor
from loopml.pipelines.executors.ray import RayExecutor

KNOWN_URIS = (
    "local",
    "process",
    "process://?workers=N",
    "ray",
    "ray://?cpus=N",
    "ray:auto",
    "ray://host:port",
    "dask",
    "dask://?workers=N",
    "dask://host:port",
    "tcp://host:port",
)

_SCHEMES = frozenset({"local", "process", "ray", "dask", "tcp", "tls"})


def executor_from_uri(uri: str) -> Executor:
    """Build the executor a URI names (see the table above), without starting it.

    Args:
        uri: an executor URI such as ``"process://?workers=4"`` or ``"ray:auto"``.

    Returns:
        The executor, not started yet.

    Raises:
        ConfigError: if the scheme is unknown, the URI is malformed, or the engine
            package it needs is not installed.
    """
    text = uri.strip()
    if text.lower() == "ray:auto":
        return RayExecutor(address="auto")
    parts = urlsplit(text if "://" in text else f"{text}://")
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigError(f"unknown executor {uri!r}; known executors: {', '.join(KNOWN_URIS)}")
    options = _query(uri, parts.query)
    if parts.path not in {"", "/"} or parts.fragment:
        raise ConfigError(f"executor URI {uri!r} has an unexpected path or fragment")
    if scheme == "local":
        _expect(uri, options, allowed=(), host=parts.netloc, host_allowed=False)
        return LocalExecutor()
    if scheme == "process":
        _expect(uri, options, allowed=("workers",), host=parts.netloc, host_allowed=False)
        return ProcessExecutor(max_workers=_positive(uri, options, "workers"))
    if scheme == "ray":
        _expect(uri, options, allowed=() if parts.netloc else ("cpus",), host=parts.netloc)
        if parts.netloc:
            return RayExecutor(address=f"ray://{parts.netloc}")
        return RayExecutor(num_cpus=_positive(uri, options, "cpus"))
    # dask, tcp, tls: a Dask scheduler
    _expect(uri, options, allowed=() if parts.netloc else ("workers",), host=parts.netloc)
    if parts.netloc:
        return DaskExecutor(address=f"{'tcp' if scheme == 'dask' else scheme}://{parts.netloc}")
    if scheme != "dask":
        raise ConfigError(f"executor URI {uri!r} names no scheduler host")
    return DaskExecutor(n_workers=_positive(uri, options, "workers") or 2)


def _query(uri: str, query: str) -> dict[str, str]:
    try:
        parsed = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise ConfigError(f"executor URI {uri!r} has a malformed query: {exc}") from exc
    for key, values in parsed.items():
        if len(values) > 1:
            raise ConfigError(f"executor URI {uri!r} gives {key!r} more than once")
    return {key: values[0] for key, values in parsed.items()}


def _expect(
    uri: str,
    options: dict[str, str],
    *,
    allowed: tuple[str, ...],
    host: str,
    host_allowed: bool = True,
) -> None:
    if host and not host_allowed:
        raise ConfigError(f"executor URI {uri!r} runs on this machine: it takes no host")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) or "none"
        raise ConfigError(
            f"executor URI {uri!r}: unknown option(s) {unknown}; accepted: {accepted}"
        )


def _positive(uri: str, options: dict[str, str], key: str) -> int | None:
    if key not in options:
        return None
    try:
        value = int(options[key])
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"executor URI {uri!r}: {key} must be a positive integer")
    return value
