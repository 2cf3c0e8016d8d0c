"""Contract of the registry's storage (RegistryStore), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa

from loopml.core.errors import ConflictError
from loopml.core.hashing import sha256_bytes
from loopml.metadata import RegistryStore, SqlMetadataStore
from loopml.metadata.registry_entities import GENESIS_HASH


def _artifact(store: SqlMetadataStore, text: str) -> str:
    digest = sha256_bytes(text.encode())
    return store.put_artifact(digest, f"mem://{digest}", len(text), "loopml.model").id


@pytest.fixture
def registry(store: SqlMetadataStore) -> RegistryStore:
    return RegistryStore(store.engine)


def _register(registry: RegistryStore, artifact: str, model: str = "flights") -> int:
    with registry.write() as tx:
        if tx.get_model(model) is None:
            tx.create_model(model, "alice")
        version = tx.next_version(model)
        tx.insert_version(
            {"model": model, "version": version, "artifact_id": artifact, "author": "alice"}
        )
        tx.append_audit("alice", "register", model=model, version=version)
    return version


def test_versions_are_numbered_from_one_and_read_back_as_entities(
    store: SqlMetadataStore, registry: RegistryStore
) -> None:
    first, second = _artifact(store, "a"), _artifact(store, "b")
    assert _register(registry, first) == 1
    assert _register(registry, second) == 2
    with registry.read() as tx:
        versions = tx.list_versions("flights")
        model = tx.get_model("flights")
    assert [(v.version, v.artifact_id) for v in versions] == [(1, first), (2, second)]
    assert model is not None and model.latest_version == 2 and model.aliases == {}
    assert versions[0].created_at.tzinfo is not None


def test_concurrent_registrations_get_distinct_versions(
    store: SqlMetadataStore, registry: RegistryStore
) -> None:
    artifacts = [_artifact(store, f"m{i}") for i in range(6)]
    got: list[int] = []
    threads = [
        threading.Thread(target=lambda a=a: got.append(_register(registry, a))) for a in artifacts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == [1, 2, 3, 4, 5, 6]


def test_alias_compare_and_set_refuses_a_stale_expectation(
    store: SqlMetadataStore, registry: RegistryStore
) -> None:
    for text in "ab":
        _register(registry, _artifact(store, text))
    with registry.write() as tx:
        tx.move_alias("flights", "production", 1, expected=None, actor="a", reason=None)
    with pytest.raises(ConflictError), registry.write() as tx:
        tx.move_alias("flights", "production", 2, expected=None, actor="b", reason=None)
    with (
        pytest.raises(ConflictError, match="no longer points at version 2"),
        registry.write() as tx,
    ):
        tx.move_alias("flights", "production", 2, expected=2, actor="b", reason=None)
    with registry.write() as tx:
        tx.move_alias("flights", "production", 2, expected=1, actor="b", reason="better")
    with registry.read() as tx:
        assert tx.aliases("flights") == {"production": 2}
        moves = tx.alias_moves("flights", "production")
    assert [(m.previous_version, m.version, m.position) for m in moves] == [(None, 1, 1), (1, 2, 2)]


def test_audit_chain_links_every_entry_and_verifies(
    store: SqlMetadataStore, registry: RegistryStore
) -> None:
    assert registry.verify_audit().ok and registry.verify_audit().entries == 0
    for text in "abc":
        _register(registry, _artifact(store, text))
    with registry.read() as tx:
        entries = list(reversed(tx.audit_entries()))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(entries))
    result = registry.verify_audit()
    assert result.ok and result.entries == 3 and result.head_hash == entries[-1].hash


def test_concurrent_audit_appends_never_fork_the_chain(registry: RegistryStore) -> None:
    def append(i: int) -> None:
        for j in range(5):
            with registry.write() as tx:
                tx.append_audit(f"user{i}", "note", details={"j": j})

    threads = [threading.Thread(target=append, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = registry.verify_audit()
    assert result.ok and result.entries == 20


@pytest.fixture
def chained(store: SqlMetadataStore, registry: RegistryStore) -> RegistryStore:
    for i in range(4):
        with registry.write() as tx:
            tx.append_audit("alice", "note", model="flights", details={"i": i}, reason=f"r{i}")
    return registry


def _sql(store: SqlMetadataStore, statement: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text(statement))


def test_an_edited_entry_is_caught(store: SqlMetadataStore, chained: RegistryStore) -> None:
    _sql(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
    result = chained.verify_audit()
    assert not result.ok and result.first_broken_seq == 2 and "edited" in (result.problem or "")


def test_an_edited_reason_with_a_recomputed_hash_breaks_the_next_link(
    store: SqlMetadataStore, chained: RegistryStore
) -> None:
    from loopml.metadata.audit import entry_hash

    with store.engine.begin() as connection:
        row = dict(
            connection.execute(sa.text("SELECT * FROM audit_log WHERE seq = 2")).mappings().one()
        )
        row["reason"] = "forged"
        forged = entry_hash({**row, "details": {"i": 1}}, row["prev_hash"])
        connection.execute(
            sa.text("UPDATE audit_log SET reason = 'forged', hash = :h WHERE seq = 2"),
            {"h": forged},
        )
    result = chained.verify_audit()
    assert not result.ok and result.first_broken_seq == 3


def test_a_deleted_entry_is_caught(store: SqlMetadataStore, chained: RegistryStore) -> None:
    _sql(store, "DELETE FROM audit_log WHERE seq = 2")
    result = chained.verify_audit()
    assert not result.ok and result.first_broken_seq == 3 and "missing" in (result.problem or "")


def test_reordered_entries_are_caught(store: SqlMetadataStore, chained: RegistryStore) -> None:
    _sql(store, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    _sql(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    _sql(store, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    result = chained.verify_audit()
    assert not result.ok and result.first_broken_seq == 2


def test_checks_keep_the_latest_result(store: SqlMetadataStore, registry: RegistryStore) -> None:
    _register(registry, _artifact(store, "a"))
    evidence = _artifact(store, "evidence")
    with registry.write() as tx:
        tx.put_check("flights", 1, "blessing", False, None, "ci")
    with registry.write() as tx:
        tx.put_check("flights", 1, "blessing", True, evidence, "ci")
    with registry.read() as tx:
        checks = tx.checks("flights", 1)
    assert checks["blessing"].passed and checks["blessing"].evidence_artifact_id == evidence
