"""Buffered metric writes: a ``log_metric`` call costs microseconds, not a transaction.

Points go to an in-memory list; a daemon thread writes them in one
transaction every ``flush_interval`` seconds, and :meth:`MetricBuffer.flush`
writes them at once (at run end, at process exit, on demand). The same thread
beats the heartbeat of the runs that are open, so a crashed process's runs can
be told apart from live ones. A batch that fails to write is kept and tried
again; at exit, what still cannot be written is spilled to a JSON-lines file
in the project's home and replayed by the next process, so a logged point is
never lost.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.errors import BackendError

if TYPE_CHECKING:
    from loopml.metadata import SqlMetadataStore
    from loopml.metadata.store import MetricRow

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 10.0
SPILL_PREFIX = "unflushed-metrics-"
_MAX_BATCH = 50_000


class MetricBuffer:
    """Collects metric points for one metadata store and writes them in batches.

    Args:
        store: where points go.
        interval: seconds between background writes.
        spill_dir: folder for points that cannot be written at exit.
    """

    def __init__(self, store: SqlMetadataStore, interval: float, spill_dir: Path) -> None:
        self.store = store
        self.interval = interval
        self.spill_dir = spill_dir
        self.open_runs: set[str] = set()
        self._rows: list[MetricRow] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._last_beat = 0.0
        self.refused = 0
        """Points the store refused as malformed (validation lets none through)."""
        _BUFFERS.add(self)

    def add(self, row: MetricRow) -> None:
        """Queue one point. Thread-safe; never blocks on the database."""
        with self._lock:
            self._rows.append(row)
            if len(self._rows) >= _MAX_BATCH:
                self._wake.set()
        if self._thread is None:
            self._start()

    def extend(self, rows: list[MetricRow]) -> None:
        """Queue many points at once."""
        with self._lock:
            self._rows.extend(rows)
            if len(self._rows) >= _MAX_BATCH:
                self._wake.set()
        if self._thread is None:
            self._start()

    def pending(self) -> int:
        """How many points wait to be written."""
        with self._lock:
            return len(self._rows)

    def flush(self) -> None:
        """Write every queued point now.

        Raises:
            BackendError: if the store cannot take them; the points stay queued.
        """
        with self._flush_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return
            try:
                self.store.log_metrics(rows)
            except BackendError:
                with self._lock:
                    self._rows[:0] = rows
                raise
            except Exception:
                # Not the store failing but a row it refuses: write the others.
                self._write_one_by_one(rows)

    def _write_one_by_one(self, rows: list[MetricRow]) -> None:
        refused = 0
        for index, row in enumerate(rows):
            try:
                self.store.log_metrics([row])
            except BackendError:
                with self._lock:
                    self._rows[:0] = rows[index:]
                raise
            except Exception:
                refused += 1
                logger.exception("metric point %r was refused by the store; dropped", row)
        self.refused += refused

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._run, name="loopml-metrics", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._background_step(self.flush)
            if time.monotonic() - self._last_beat >= HEARTBEAT_INTERVAL and self.open_runs:
                self._last_beat = time.monotonic()
                self._background_step(lambda: self.store.heartbeat(list(self.open_runs)))

    @staticmethod
    def _background_step(step: Callable[[], object]) -> None:
        try:
            step()
        except Exception:
            logger.exception("loopml could not write to the metadata store; will retry")

    def close(self) -> None:
        """Stop the writer thread after a last flush; spill what cannot be written."""
        self._stopped = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 5)
        try:
            self.flush()
        except Exception:
            self._spill()

    def _spill(self) -> None:
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        path = self.spill_dir / f"{SPILL_PREFIX}{os.getpid()}-{time.time_ns()}.jsonl"
        with open(path, "w") as out:
            for run_id, key, value, step, timestamp in rows:
                try:
                    line = json.dumps([run_id, key, float(value), int(step), float(timestamp)])
                except (TypeError, ValueError, OverflowError):
                    logger.error("metric point %r cannot be kept; dropped", (run_id, key))
                    continue
                out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        logger.error("%d metric points could not be written; kept in %s", len(rows), path)


def replay_spilled(store: SqlMetadataStore, spill_dir: Path) -> int:
    """Write points spilled by earlier processes into ``store``; return how many.

    Each file is claimed by renaming it first, so processes starting at once
    replay it once. A file that cannot be replayed is set aside (``.bad``) and
    logged, never in the way of a run starting.
    """
    written = 0
    for path in sorted(spill_dir.glob(f"{SPILL_PREFIX}*.jsonl")):
        claimed = path.with_name(f"{path.name}.{os.getpid()}.replaying")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue  # another process claimed it
        try:
            lines = claimed.read_text().splitlines()
            rows = [tuple(json.loads(line)) for line in lines if line.strip()]
            store.log_metrics(rows)
        except Exception:
            bad = path.with_name(path.name + ".bad")
            os.rename(claimed, bad)
            logger.exception("spilled metric points in %s could not be replayed; kept there", bad)
            continue
        claimed.unlink()
        written += len(rows)
    if written:
        logger.warning("replayed %d metric points spilled by an earlier process", written)
    return written


_BUFFERS: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child owns none of its parent's queued points, thread or connections."""
    for buffer in list(_BUFFERS):
        buffer._rows = []
        buffer._lock = threading.Lock()
        buffer._flush_lock = threading.Lock()
        buffer._wake = threading.Event()
        buffer._thread = None
        buffer._stopped = False
        buffer.open_runs = set()
        engine = getattr(buffer.store, "_engine", None)
        if engine is not None:
            engine.dispose(close=False)
    # multiprocessing children leave through os._exit: flush them on their way out.
    import multiprocessing.util

    multiprocessing.util.Finalize(None, _close_all, exitpriority=100)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_all() -> None:
    for buffer in list(_BUFFERS):
        buffer.close()
