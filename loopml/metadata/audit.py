"""The hash chain of the audit log: how an entry's hash is computed and checked.

``hash = sha256(canonical JSON of the entry's fields + prev_hash)``. The fields
are taken as stored (time as epoch seconds), so a verifier needs nothing but
the table. An edit changes an entry's hash; a deletion or a reordering breaks
the link to ``prev_hash`` or the run of sequence numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from loopml.core.hashing import canonical_json, sha256_bytes
from loopml.metadata.registry_entities import GENESIS_HASH, AuditVerification

HASHED_FIELDS = ("seq", "at", "actor", "action", "model", "version", "details", "reason")


def entry_hash(row: Mapping[Any, Any], prev_hash: str) -> str:
    """The hash of an audit row (its :data:`HASHED_FIELDS`) chained to ``prev_hash``."""
    body = canonical_json({name: row[name] for name in HASHED_FIELDS})
    return sha256_bytes((body + prev_hash).encode())


def verify_rows(rows: Iterable[Mapping[Any, Any]]) -> AuditVerification:
    """Walk audit rows in ``seq`` order and report the first one that breaks the chain."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    for row in rows:
        problem = _problem(row, expected_seq, prev_hash)
        if problem is not None:
            return AuditVerification(
                ok=False,
                entries=count,
                head_hash=prev_hash,
                first_broken_seq=int(row["seq"]),
                problem=problem,
            )
        prev_hash = str(row["hash"])
        expected_seq = int(row["seq"]) + 1
        count += 1
    return AuditVerification(ok=True, entries=count, head_hash=prev_hash)


def _problem(row: Mapping[Any, Any], expected_seq: int, prev_hash: str) -> str | None:
    seq = int(row["seq"])
    if seq != expected_seq:
        return f"entry {seq} follows entry {expected_seq - 1}: entries are missing"
    if row["prev_hash"] != prev_hash:
        return f"entry {seq} does not link to the entry before it: deleted or reordered"
    if entry_hash(row, prev_hash) != row["hash"]:
        return f"entry {seq} does not match its hash: it was edited"
    return None
