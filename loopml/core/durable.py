"""Making writes durable: what an atomic rename needs beyond ``os.replace``."""

from __future__ import annotations

import os


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a creation or rename inside the folder ``path`` durable.

    POSIX only; a no-op on Windows, where folders cannot be opened for fsync.
    """
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
