"""Artifact keys: validation that keeps every key inside its store's root.

A key is a relative, ``/``-separated path such as ``sha256/ab/ab12...`` or
``runs/42/model.skops``. :func:`normalize_key` accepts a key only if no backend
can read it as anything but a path below the root, whatever decoding a layer
between us and the bytes might apply. It refuses rather than repairs:

- anything but ``str``; the empty key; more than 1024 UTF-8 bytes, or a
  component of more than 255;
- empty components (a leading ``/`` -- an absolute path --, ``//``, a trailing
  ``/``), components made only of dots (``.``, ``..``, ``...``) and components
  with leading or trailing whitespace;
- backslashes (a separator on Windows), percent escapes such as ``%2e`` or
  ``%252f`` (a URL layer could decode them into ``.`` or ``/``), and the glob
  characters ``* ? [ ]`` (fsspec expands them in some calls);
- NUL, control, format (bidi overrides, zero-width), surrogate, private-use,
  unassigned and line/paragraph separator characters;
- characters that Unicode compatibility folding (NFKC) would turn into
  something else, such as fullwidth full stops and solidus (U+FF0E, U+FF0F)
  that some layers fold to ``../``. Keys are returned in NFC form;
- the first component ``.tmp``, which stores keep for their temporary files.

Stores whose keys are local files check in addition, with
:func:`resolve_inside`, that the key's real path (symbolic links resolved)
stays under the real path of the root.
"""

from __future__ import annotations

import os
import re
import unicodedata

from loopml.artifacts.errors import InvalidKeyError

MAX_KEY_BYTES = 1024
MAX_COMPONENT_BYTES = 255
TEMP_DIR = ".tmp"
"""First component reserved for the temporary files of atomic writes."""

_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_FORBIDDEN_CHARS = frozenset("\\*?[]")
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def normalize_key(key: object) -> str:
    """Validate an artifact key and return its normal (NFC) form.

    Args:
        key: the key to check, relative to a store's root.

    Returns:
        The key, NFC-normalized, safe to append to a root after a ``/``.

    Raises:
        InvalidKeyError: if the key breaks any rule of this module's docstring.
    """
    text = normalize_path(key)
    if text.split("/", 1)[0] == TEMP_DIR:
        raise InvalidKeyError(f"artifact keys must not start with {TEMP_DIR!r}/ (reserved)")
    return text


def normalize_path(key: object) -> str:
    """Validate a relative path by every rule of :func:`normalize_key` but the reserved ``.tmp``.

    Used for the file paths inside a folder artifact's manifest, which are
    confined the same way but are not store keys.

    Raises:
        InvalidKeyError: if the path is refused.
    """
    if not isinstance(key, str):
        raise InvalidKeyError(f"an artifact key must be a str, not {type(key).__name__}")
    if key == "":
        raise InvalidKeyError("an artifact key must not be empty")
    _check_characters(key)
    text = unicodedata.normalize("NFC", key)
    if unicodedata.normalize("NFKC", text) != text:
        raise InvalidKeyError(
            f"artifact key {_show(key)} holds compatibility characters (NFKC would change it)"
        )
    if len(text.encode()) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"artifact key is longer than {MAX_KEY_BYTES} bytes")
    for part in text.split("/"):
        _check_component(part, key)
    return text


def normalize_prefix(prefix: object) -> str:
    """Validate a listing prefix: ``""``, or a key optionally followed by one ``/``.

    Raises:
        InvalidKeyError: if the prefix without its trailing ``/`` is not a valid key.
    """
    if prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.endswith("/"):
        return normalize_key(prefix[:-1]) + "/"
    return normalize_key(prefix)


def resolve_inside(root: str | os.PathLike[str], key: str) -> str:
    """Return the real path of ``key`` under the local folder ``root``, or refuse.

    Symbolic links are resolved in both ``root`` and the joined path, so a link
    inside the root that points outside it is refused. Missing path components
    are allowed (the path may be about to be created).

    Args:
        root: the local root folder (need not exist yet).
        key: a key already checked by :func:`normalize_key`.

    Returns:
        The absolute real path the key designates.

    Raises:
        InvalidKeyError: if that real path is not strictly below the root's real path.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, key))
    if real == real_root or os.path.commonpath([real_root, real]) != real_root:
        raise InvalidKeyError(f"artifact key {_show(key)} resolves outside the store's root")
    return real


def _show(key: str) -> str:
    """Render a key for an error message, cut short so a huge key cannot flood logs."""
    return repr(key) if len(key) <= 80 else repr(key[:80]) + "..."


def _check_characters(key: str) -> None:
    for char in key:
        if char in _FORBIDDEN_CHARS:
            raise InvalidKeyError(f"artifact key {_show(key)} must not contain {char!r}")
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise InvalidKeyError(
                f"artifact key {_show(key)} holds an invisible or control character "
                f"U+{ord(char):04X}"
            )
    if _PERCENT_ESCAPE.search(key):
        raise InvalidKeyError(f"artifact key {_show(key)} must not contain percent escapes")


def _check_component(part: str, key: str) -> None:
    if part == "":
        raise InvalidKeyError(
            f"artifact key {_show(key)} must be relative, without empty components "
            "('//', or '/' at either end)"
        )
    if part.strip(".") == "":
        raise InvalidKeyError(f"artifact key {_show(key)} must not have '.' or '..' components")
    if part != part.strip():
        raise InvalidKeyError(f"artifact key {_show(key)} has a component with surrounding spaces")
    if len(part.encode()) > MAX_COMPONENT_BYTES:
        raise InvalidKeyError(f"artifact key has a component longer than {MAX_COMPONENT_BYTES}")
