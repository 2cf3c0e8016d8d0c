"""Choose an artifact store from a URI, by scheme.

=========================  ===========================================
URI                        store
=========================  ===========================================
``/path``, ``rel/path``    :class:`~loopml.artifacts.local.LocalArtifactStore`
``file:///path``           :class:`~loopml.artifacts.local.LocalArtifactStore`
``s3://bucket/prefix``     :class:`~loopml.artifacts.s3.S3ArtifactStore`
any other fsspec URL       :class:`~loopml.artifacts.fsspec_store.FsspecArtifactStore`
=========================  ===========================================

No backend library is imported here; each store imports its own on first use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from loopml.artifacts.base import ArtifactStore
from loopml.artifacts.fsspec_store import FsspecArtifactStore
from loopml.artifacts.local import LocalArtifactStore
from loopml.artifacts.s3 import S3ArtifactStore
from loopml.core.errors import ConfigError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def artifact_store_from_uri(uri: str, options: Mapping[str, Any] | None = None) -> ArtifactStore:
    """Build the artifact store a URI names, without any I/O.

    Args:
        uri: a local path, a ``file://`` URL, ``s3://bucket/prefix`` or any fsspec URL.
        options: fsspec storage options (credentials, endpoint...) for URL stores.

    Returns:
        The store rooted at ``uri``.

    Raises:
        ConfigError: if the URI is malformed, or options are given for a local folder.
    """
    options = dict(options or {})
    match = _SCHEME.match(uri)
    scheme = match.group(1).lower() if match else ""
    if scheme in {"", "file", "local"}:
        if options:
            raise ConfigError(
                f"artifact options {sorted(options)} were given, but {uri!r} is a local folder"
            )
        return LocalArtifactStore(_local_path(uri) if scheme else uri)
    if scheme in {"s3", "s3a"}:
        return S3ArtifactStore(uri, **options)
    return FsspecArtifactStore(uri, **options)


def _local_path(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.netloc not in {"", "localhost"} or parts.query or parts.fragment:
        raise ConfigError(f"{uri!r} is not a local file URL such as file:///path/to/folder")
    from urllib.request import url2pathname  # decodes %20 and Windows drive letters

    path = url2pathname(parts.path)
    if not path:
        raise ConfigError(f"{uri!r} names no folder")
    return path
