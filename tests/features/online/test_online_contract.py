"""One contract for every online store: SQLite, Redis and the memory fake."""

from __future__ import annotations

import math
import threading

import pytest

from loopml.core.errors import ConfigError
from loopml.features import OnlineRecord, online_store_from_uri
from loopml.features.online import encode_key


@pytest.fixture
def store(online_uri: str):
    opened = online_store_from_uri(online_uri)
    yield opened
    opened.delete("v")
    opened.delete("w")
    opened.close()


def test_get_returns_records_in_key_order_and_none_for_missing(store) -> None:
    written = store.put(
        "v",
        [
            ("a", OnlineRecord(10.0, {"x": 1.5, "s": "hi", "n": None})),
            ("b", OnlineRecord(11.0, {"x": 2.5, "s": "yo", "n": 3})),
        ],
    )
    assert written == 2
    found = store.get("v", ["b", "missing", "a"])
    assert found[1] is None
    assert found[0] == OnlineRecord(11.0, {"x": 2.5, "s": "yo", "n": 3}, 0.0)
    assert found[2] == OnlineRecord(10.0, {"x": 1.5, "s": "hi", "n": None}, 0.0)
    assert store.get("v", ["a"]) == [found[2]]


def test_views_are_separate(store) -> None:
    store.put("v", [("a", OnlineRecord(1.0, {"x": 1}))])
    store.put("w", [("a", OnlineRecord(1.0, {"x": 2}))])
    assert store.get("v", ["a"])[0].values == {"x": 1}
    assert store.get("w", ["a"])[0].values == {"x": 2}


def test_an_older_record_never_replaces_a_newer_one(store) -> None:
    store.put("v", [("a", OnlineRecord(10.0, {"x": 1}, created=5.0))])
    assert store.put("v", [("a", OnlineRecord(9.0, {"x": 0}, created=99.0))]) == 0
    assert store.put("v", [("a", OnlineRecord(10.0, {"x": 0}, created=4.0))]) == 0
    assert store.get("v", ["a"])[0].values == {"x": 1}
    assert store.put("v", [("a", OnlineRecord(10.0, {"x": 2}, created=5.0))]) == 1
    assert store.get("v", ["a"])[0].values == {"x": 2}
    assert store.put("v", [("a", OnlineRecord(11.0, {"x": 3}, created=0.0))]) == 1
    assert store.get("v", ["a"])[0] == OnlineRecord(11.0, {"x": 3}, 0.0)


def test_within_one_put_the_newest_of_a_key_wins(store) -> None:
    rows = [("a", OnlineRecord(t, {"t": t})) for t in (3.0, 5.0, 4.0)]
    store.put("v", rows)
    assert store.get("v", ["a"])[0].values == {"t": 5.0}


def test_nan_survives_and_many_keys_come_back(store) -> None:
    rows = [(encode_key([i]), OnlineRecord(float(i), {"x": float(i)})) for i in range(1200)]
    rows.append((encode_key([5000]), OnlineRecord(1.0, {"x": math.nan})))
    assert store.put("v", rows) == 1201
    keys = [encode_key([i]) for i in range(0, 1200, 7)]
    assert [r.values["x"] for r in store.get("v", keys)] == [float(i) for i in range(0, 1200, 7)]
    assert math.isnan(store.get("v", [encode_key([5000])])[0].values["x"])
    # the same key asked twice comes back twice
    assert len(store.get("v", [keys[0], keys[0]])) == 2


def test_delete_some_keys_or_the_whole_view(store) -> None:
    store.put("v", [(k, OnlineRecord(1.0, {"x": 1})) for k in "abc"])
    store.put("w", [("a", OnlineRecord(1.0, {"x": 1}))])
    assert store.delete("v", ["a"]) == 1
    assert store.get("v", ["a", "b"])[0] is None
    assert store.delete("v") == 2
    assert store.get("v", ["b", "c"]) == [None, None]
    assert store.get("w", ["a"])[0] is not None


def test_threads_share_one_store(store) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.put("v", [(f"{n}-{i}", OnlineRecord(float(i), {"n": n}))])
                assert store.get("v", [f"{n}-{i}"])[0].values == {"n": n}
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_reopens_after_close(store) -> None:
    store.put("v", [("a", OnlineRecord(1.0, {"x": 1}))])
    store.close()
    assert store.get("v", ["a"])[0].values == {"x": 1}


def test_infinite_times_are_refused(store) -> None:
    with pytest.raises(ValueError):
        store.put("v", [("a", OnlineRecord(math.inf, {"x": 1}))])


@pytest.mark.parametrize(
    "target",
    ["mongodb://x", "sqlite://", {"type": "cassandra"}, {"type": "redis", "prefix": "a:b"}],
)
def test_factory_refuses_what_it_does_not_know(target) -> None:
    with pytest.raises(ConfigError):
        online_store_from_uri(target)


def test_factory_takes_mappings_and_relative_paths(tmp_path) -> None:
    store = online_store_from_uri({"type": "sqlite", "path": "x/online.db"}, base_dir=tmp_path)
    assert store.path == tmp_path / "x" / "online.db"  # type: ignore[attr-defined]
    redis_store = online_store_from_uri("redis://127.0.0.1:6379/3?prefix=abc")
    assert redis_store.prefix == "abc"  # type: ignore[attr-defined]
    assert "prefix" not in redis_store.url  # type: ignore[attr-defined]


def test_encode_key_is_the_same_for_numpy_and_python_values() -> None:
    import numpy as np

    assert encode_key([np.int64(3), "x"]) == encode_key([3, "x"]) == '[3,"x"]'
    assert encode_key([3]) != encode_key(["3"])
