"""Artifact store on Amazon S3 and S3-compatible services (MinIO, Ceph, R2...), via s3fs.

A single ``PUT`` (and a completed multipart upload) is atomic on S3, so
objects are written in place. s3fs and botocore are imported on first use.
botocore's own exceptions, which s3fs lets through (no connection, no
credentials...), are translated here, at this backend's one boundary.
"""

from __future__ import annotations

import logging
from typing import Any

from loopml.artifacts.errors import (
    ArtifactBackendError,
    ArtifactConflictError,
    ArtifactNotFoundError,
)
from loopml.artifacts.fsspec_store import FsspecArtifactStore
from loopml.core.errors import ConfigError, LoopMLError

logger = logging.getLogger(__name__)

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3ArtifactStore(FsspecArtifactStore):
    """Artifact store under ``s3://bucket/prefix``.

    Directory listings are not cached by default (``use_listings_cache=False``)
    so that objects written by other processes are seen at once.

    Args:
        url: ``s3://bucket`` or ``s3://bucket/prefix``.
        **storage_options: passed to ``s3fs.S3FileSystem`` (``endpoint_url``, ``key``,
            ``secret``, ``client_kwargs``...).

    Raises:
        ConfigError: if ``url`` is not an ``s3://`` URL with a bucket.
    """

    def __init__(self, url: str, **storage_options: Any) -> None:
        scheme, sep, path = url.partition("://")
        if scheme.lower() not in {"s3", "s3a"} or not sep or not path.split("/", 1)[0]:
            raise ConfigError(f"{url!r} is not an S3 URL of the form s3://bucket/prefix")
        storage_options.setdefault("use_listings_cache", False)
        super().__init__(f"s3://{path}", **storage_options)

    def _translate(self, exc: Exception, key: str, *, writing: bool) -> LoopMLError | None:
        where = f"{key!r} in {self.uri}"
        if type(exc).__name__ == "FileExpired":  # s3fs: the object changed during a read
            return ArtifactConflictError(f"{where} was replaced while being read; read it again")
        if not type(exc).__module__.startswith("botocore"):
            return super()._translate(exc, key, writing=writing)
        import botocore.exceptions

        if isinstance(exc, botocore.exceptions.ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES and not writing:
                return ArtifactNotFoundError(f"no artifact {where}")
            return ArtifactBackendError(f"S3 refused the request on {where}: {code or exc}")
        if isinstance(exc, botocore.exceptions.BotoCoreError):
            return ArtifactBackendError(f"S3 request failed on {where}: {exc}")
        return None
