"""The metadata store contract, run over SQLite and PostgreSQL (see ``metadata_uri``)."""

from __future__ import annotations

import math
import time

import pytest

from loopml.core.errors import ConflictError, InvalidInputError, NotFoundError
from loopml.metadata import ContextType, EventKind, ExecutionStatus, SqlMetadataStore

D1, D2, D3 = ("1" * 64, "2" * 64, "3" * 64)


def test_context_get_or_create_is_idempotent(store: SqlMetadataStore) -> None:
    first = store.get_or_create_context(
        ContextType.EXPERIMENT, "flights", properties={"team": "ml"}
    )
    again = store.get_or_create_context(ContextType.EXPERIMENT, "flights")
    assert first == again
    assert first.properties == {"team": "ml"}
    assert store.find_context(ContextType.EXPERIMENT, "nope") is None
    assert [c.name for c in store.list_contexts(ContextType.EXPERIMENT)] == ["flights"]
    assert store.get_context(first.id) == first
    with pytest.raises(NotFoundError):
        store.get_context("0" * 32)


def test_execution_round_trip(store: SqlMetadataStore) -> None:
    ctx = store.get_or_create_context("experiment", "e")
    created = store.create_execution(
        "run",
        "first",
        context_ids=[ctx.id],
        params={"lr": 0.1, "model": "rf", "flag": True},
        tags={"team": "core"},
        user="ada",
        git_commit="abc",
        git_dirty=True,
        environment={"python": "3.11"},
        properties={"argv": ["x"]},
    )
    got = store.get_execution(created.id)
    assert got == created
    assert got.status is ExecutionStatus.RUNNING
    assert got.params == {"lr": "0.1", "model": "rf", "flag": "True"}
    assert got.tags == {"team": "core"}
    assert got.context_ids == (ctx.id,)
    assert (got.user, got.git_commit, got.git_dirty) == ("ada", "abc", True)
    assert got.started_at.tzinfo is not None
    assert got.duration is None


def test_finish_is_final_and_idempotent(store: SqlMetadataStore) -> None:
    run = store.create_execution("run")
    store.finish_execution(run.id, ExecutionStatus.FAILED, error="boom")
    store.finish_execution(run.id, ExecutionStatus.FAILED)
    done = store.get_execution(run.id)
    assert done.status is ExecutionStatus.FAILED
    assert done.error == "boom"
    assert done.duration is not None and done.duration >= 0
    with pytest.raises(ConflictError, match="already failed"):
        store.finish_execution(run.id, ExecutionStatus.COMPLETED)
    with pytest.raises(InvalidInputError):
        store.finish_execution(run.id, ExecutionStatus.RUNNING)
    with pytest.raises(NotFoundError):
        store.finish_execution("f" * 32)


def test_params_are_set_once(store: SqlMetadataStore) -> None:
    run = store.create_execution("run", params={"a": 1})
    store.log_params(run.id, {"a": 1, "b": "x"})
    with pytest.raises(ConflictError, match="already '1'"):
        store.log_params(run.id, {"a": 2, "c": "never written"})
    assert store.get_execution(run.id).params == {"a": "1", "b": "x"}


@pytest.mark.parametrize(
    "bad",
    [{"": 1}, {"a" * 300: 1}, {"../etc": 1}, {"semi;colon": 1}, {"x": "v" * 9000}],
)
def test_bad_params_change_nothing(store: SqlMetadataStore, bad: dict[str, object]) -> None:
    run = store.create_execution("run")
    with pytest.raises(InvalidInputError):
        store.log_params(run.id, {"good": 1, **bad})
    assert store.get_execution(run.id).params == {}


def test_tags_overwrite_and_delete(store: SqlMetadataStore) -> None:
    run = store.create_execution("run", tags={"stage": "dev"})
    store.set_tags(run.id, {"stage": "prod", "owner": "ada"})
    assert store.get_execution(run.id).tags == {"stage": "prod", "owner": "ada"}
    store.delete_tag(run.id, "owner")
    with pytest.raises(NotFoundError):
        store.delete_tag(run.id, "owner")
    assert store.get_execution(run.id).tags == {"stage": "prod"}


def test_metrics_history_and_latest(store: SqlMetadataStore) -> None:
    run = store.create_execution("run")
    t = time.time()
    store.log_metrics([(run.id, "loss", 0.9, 0, t), (run.id, "loss", 0.5, 2, t + 1)])
    # A late point with a lower step does not replace the latest.
    store.log_metrics([(run.id, "loss", 0.7, 1, t + 2), (run.id, "acc", math.nan, 0, t)])
    history = store.get_metric_history(run.id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.7), (2, 0.5)]
    metrics = store.get_execution(run.id).metrics
    assert metrics["loss"] == 0.5
    assert math.isnan(metrics["acc"])
    assert math.isnan(store.get_metric_history(run.id, "acc")[0].value)
    with pytest.raises(NotFoundError):
        store.get_metric_history("e" * 32, "loss")


def test_metrics_keep_infinities(store: SqlMetadataStore) -> None:
    run = store.create_execution("run")
    store.log_metrics([(run.id, "x", math.inf, 0, 1.0), (run.id, "y", -math.inf, 0, 1.0)])
    assert store.get_execution(run.id).metrics == {"x": math.inf, "y": -math.inf}


def test_artifacts_are_keyed_by_digest(store: SqlMetadataStore) -> None:
    first = store.put_artifact(D1, "file:///a", 10, "pandas.DataFrame", {"rows": 3})
    again = store.put_artifact(D1, "file:///other", 99, "bytes")
    assert again == first
    assert store.get_artifact(D1[:8]) == first
    store.put_artifact("1" * 8 + "f" * 56, "file:///b", 1, "bytes")
    with pytest.raises(InvalidInputError, match="ambiguous"):
        store.get_artifact("1" * 8)
    with pytest.raises(InvalidInputError):
        store.put_artifact("not-a-digest", "file:///x", 1, "bytes")
    with pytest.raises(InvalidInputError):
        store.get_artifact("zz")
    with pytest.raises(NotFoundError):
        store.get_artifact("9" * 64)
    assert [a.id for a in store.list_artifacts(type="pandas.DataFrame")] == [D1]


def test_events_link_executions_and_artifacts(store: SqlMetadataStore) -> None:
    run = store.create_execution("step")
    store.put_artifact(D1, "u1", 1, "bytes")
    store.put_artifact(D2, "u2", 1, "bytes")
    store.add_events(run.id, inputs={"data": D1}, outputs={"model": D2})
    store.add_events(run.id, outputs={"model": D2})
    events = store.list_events(execution_id=run.id)
    assert {(e.kind, e.name, e.artifact_id) for e in events} == {
        (EventKind.INPUT, "data", D1),
        (EventKind.OUTPUT, "model", D2),
    }
    with pytest.raises(NotFoundError, match="unknown artifact"):
        store.add_events(run.id, inputs={"x": D3})
    with pytest.raises(NotFoundError):
        store.add_events("0" * 32, inputs={"x": D1})
    assert len(store.list_events(execution_id=run.id)) == 2


def test_lineage_upstream_and_downstream_to_any_depth(store: SqlMetadataStore) -> None:
    for digest in (D1, D2, D3):
        store.put_artifact(digest, "u", 1, "bytes")
    ingest = store.create_execution("step", "ingest")
    train = store.create_execution("step", "train")
    store.add_events(ingest.id, inputs={"raw": D1}, outputs={"clean": D2})
    store.add_events(train.id, inputs={"clean": D2}, outputs={"model": D3})

    up = store.lineage(D3)
    assert set(up.artifacts) == {D1, D2, D3}
    assert set(up.executions) == {ingest.id, train.id}
    assert len(up.events) == 4
    assert set(store.lineage(D3, depth=1).executions) == {train.id}
    assert set(store.lineage(D3, depth=1).artifacts) == {D2, D3}

    down = store.lineage(D1[:10], direction="downstream")
    assert set(down.executions) == {ingest.id, train.id}
    assert D3 in down
    assert set(store.lineage(train.id).artifacts) == {D1, D2}
    with pytest.raises(InvalidInputError):
        store.lineage(D3, direction="sideways")


def test_search_filters_order_and_limit(store: SqlMetadataStore) -> None:
    ctx = store.get_or_create_context("experiment", "e")
    ids = []
    for i, model in enumerate(["rf", "rf", "lr", "lr"]):
        run = store.create_execution("run", f"r{i}", context_ids=[ctx.id], params={"model": model})
        store.log_metrics([(run.id, "rmse", i / 10, 0, time.time())])
        ids.append(run.id)
    store.set_tags(ids[3], {"note": "best"})
    store.create_execution("step", "not a run", params={"model": "rf"})

    def names(text: str, **kw: object) -> list[str]:
        return [e.name for e in store.search_executions(text, type="run", **kw)]  # type: ignore[arg-type]

    assert names("metrics.rmse < 0.15 and params.model = 'rf'", order_by=["metrics.rmse"]) == [
        "r0",
        "r1",
    ]
    assert names("params.model IN ('lr') or metrics.rmse = 0", order_by=["name"]) == [
        "r0",
        "r2",
        "r3",
    ]
    assert names("tags.note IS NULL", order_by=["metrics.rmse DESC"]) == ["r2", "r1", "r0"]
    assert names("not (params.model = 'rf') and tags.note LIKE 'b%'") == ["r3"]
    assert names("", order_by=["metrics.rmse desc"], limit=2) == ["r3", "r2"]
    assert names("params.model ILIKE 'R%'", context_ids=[ctx.id], order_by=["name"]) == ["r0", "r1"]
    assert names(f"id = '{ids[2]}'") == ["r2"]
    assert len(store.search_executions("params.model = 'rf'")) == 3


def test_soft_delete_hides_from_search_but_not_lineage(store: SqlMetadataStore) -> None:
    run = store.create_execution("run")
    store.put_artifact(D1, "u", 1, "bytes")
    store.add_events(run.id, outputs={"out": D1})
    store.delete_execution(run.id)
    assert store.search_executions("", type="run") == []
    assert run.id in store.lineage(D1).executions


def test_stale_runs_are_failed_by_heartbeat(store: SqlMetadataStore) -> None:
    alive = store.create_execution("run")
    dead = store.create_execution("run")
    time.sleep(0.3)
    store.heartbeat([alive.id])
    assert store.fail_stale(0.2) == [dead.id]
    assert store.get_execution(dead.id).status is ExecutionStatus.FAILED
    assert store.get_execution(alive.id).status is ExecutionStatus.RUNNING


def test_nested_executions_need_an_existing_parent(store: SqlMetadataStore) -> None:
    parent = store.create_execution("run")
    child = store.create_execution("run", parent_id=parent.id)
    assert [e.id for e in store.list_executions(parent_id=parent.id)] == [child.id]
    with pytest.raises(NotFoundError):
        store.create_execution("run", parent_id="0" * 32)
    assert len(store.list_executions(type="run")) == 2


def test_like_is_case_sensitive_and_ilike_is_not_on_every_backend(store: SqlMetadataStore) -> None:
    """Regression: SQLite's LIKE ignored case while PostgreSQL's did not."""
    store.create_execution("run", params={"model": "RandomForest"})
    assert store.search_executions("params.model LIKE 'random%'") == []
    assert len(store.search_executions("params.model LIKE 'Random%'")) == 1
    assert len(store.search_executions("params.model ILIKE 'random%'")) == 1


def test_lineage_from_an_artifact_prefix_uses_one_connection(sqlite_uri: str) -> None:
    """Regression: resolving the artifact opened a second transaction (broke in-memory SQLite)."""
    memory = SqlMetadataStore("sqlite://")
    run = memory.create_execution("step")
    memory.put_artifact(D1, "u", 1, "bytes")
    memory.add_events(run.id, outputs={"out": D1})
    assert run.id in memory.lineage(D1[:8]).executions
    with pytest.raises(InvalidInputError):
        memory.get_artifact(123)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        memory.lineage(None)  # type: ignore[arg-type]
    memory.close()
