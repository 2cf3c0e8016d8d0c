"""Applied versions in the metadata store (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

import pytest

from loopml.features import Feature, FeatureConflictError, FeatureNotFoundError, FeatureStore
from loopml.features.repository import APPLY_TYPE, history, load_current


def test_apply_versions_and_is_idempotent(workspace, definitions) -> None:
    store = FeatureStore(workspace=workspace)
    first = store.apply(definitions)
    assert first.version == 1
    assert store.apply(definitions) == first
    view = definitions.views[0]
    wider = dataclasses.replace(view, features=(*view.features, Feature("wind")))
    second = store.apply(dataclasses.replace(definitions, views=(wider,)))
    assert second.version == 2
    assert "feature view 'weather' changed" in second.changes
    assert [v.version for v in history(workspace)] == [2, 1]
    loaded, current = load_current(workspace)
    assert current == second
    assert loaded.view("weather").features[-1].name == "wind"
    executions = workspace.metadata.list_executions(type=APPLY_TYPE)
    assert len(executions) == 2
    events = workspace.metadata.list_events(execution_id=second.execution_id)
    assert [(e.kind, e.name) for e in events] == [("output", "definitions")]


def test_breaking_changes_need_force(workspace, definitions) -> None:
    store = FeatureStore(workspace=workspace)
    store.apply(definitions)
    view = definitions.views[0]
    retyped = dataclasses.replace(view, features=(Feature("temp", "int64"), view.features[1]))
    changed = dataclasses.replace(definitions, views=(retyped,))
    with pytest.raises(FeatureConflictError, match=r"weather:temp type float64 -> int64"):
        store.apply(changed)
    assert history(workspace)[0].version == 1
    forced = store.apply(changed, force=True)
    assert forced.version == 2


def test_nothing_applied_is_a_clear_error(workspace) -> None:
    with pytest.raises(FeatureNotFoundError, match="loopml features apply"):
        FeatureStore(workspace=workspace).definitions  # noqa: B018


def test_concurrent_applies_never_claim_one_version(workspace, definitions, monkeypatch) -> None:
    # Regression (concurrent applies): both read version 1 as current and both recorded 2.
    import threading

    from loopml.features import repository
    from loopml.workspace import Workspace

    store = FeatureStore(workspace=workspace)
    store.apply(definitions)
    view = definitions.views[0]
    wider = [
        dataclasses.replace(definitions, views=(dataclasses.replace(view, ttl=ttl),))
        for ttl in ("1h", "2h")
    ]
    barrier = threading.Barrier(2, timeout=30)
    first_read = threading.local()
    real = repository.current_version

    def both_read_first(*args, **kwargs):
        found = real(*args, **kwargs)
        if not getattr(first_read, "done", False):
            first_read.done = True
            barrier.wait()  # both threads hold version 1 as current before either writes
        return found

    monkeypatch.setattr(repository, "current_version", both_read_first)
    results: list[object] = []

    def apply(changed) -> None:
        own = Workspace(workspace.settings)
        try:
            results.append(FeatureStore(workspace=own).apply(changed).version)
        except FeatureConflictError as exc:
            results.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=apply, args=(d,)) for d in wider]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r for r in results if isinstance(r, int)) == [2, 3]
    assert [v.version for v in history(workspace)] == [3, 2, 1]
