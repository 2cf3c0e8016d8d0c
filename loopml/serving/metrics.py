"""Prometheus metrics of the model server, in a registry of its own per app."""

from __future__ import annotations

import os
from typing import Any

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 10_000)


class ServerMetrics:
    """Requests, errors, latency and batch sizes, labelled by model, version and status.

    With ``PROMETHEUS_MULTIPROC_DIR`` set (several workers), values go to the
    shared folder and :meth:`render` aggregates every worker's.
    """

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("model", "version", "status")
        self.requests = Counter(
            "loopml_requests", "Prediction requests answered.", labels, registry=self.registry
        )
        self.errors = Counter(
            "loopml_request_errors", "Requests answered with an error.", labels,
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "loopml_request_latency_seconds", "Time to answer a prediction request.", labels,
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.batch_rows = Histogram(
            "loopml_batch_rows", "Rows per micro-batched predict call.", ("model", "version"),
            buckets=BATCH_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.log_dropped = Counter(
            "loopml_request_log_dropped", "Log records dropped (queue full).",
            registry=self.registry,
        )  # fmt: skip
        self.in_flight = Gauge(
            "loopml_requests_in_flight", "Requests being answered.", registry=self.registry,
            multiprocess_mode="livesum",
        )  # fmt: skip
        self.rejected = Counter(
            "loopml_requests_rejected", "Requests refused by a limit.", ("reason",),
            registry=self.registry,
        )  # fmt: skip

    def observe(self, model: str, version: Any, status: int, seconds: float) -> None:
        """Count one prediction request."""
        labels = (model, str(version), str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)
        if status >= 400:
            self.errors.labels(*labels).inc()

    def batch(self, model: str, version: int, rows: int) -> None:
        """Count one predict call of ``rows`` rows."""
        self.batch_rows.labels(model, str(version)).observe(rows)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        if self.multiprocess:
            from prometheus_client import CollectorRegistry, multiprocess

            shared = CollectorRegistry()
            multiprocess.MultiProcessCollector(shared)
            return generate_latest(shared), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
